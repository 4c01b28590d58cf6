#include "pcap-writer.h"

#include <cerrno>
#include <cstring>
#include <pcap/pcap.h>

namespace offloadlab
{

namespace
{
constexpr int kSnapLength = 65535;
constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kBlockBytes = 1 << 20;
constexpr size_t kMaxFullBlocks = 64;
constexpr size_t kMaxFreeBlocks = 4;

/// A record in a block: the time, the frame's length, the bytes kept, then those bytes.
struct RecordHeader
{
    uint64_t timeNs;
    uint32_t length;
    uint32_t caplen;
};
} // namespace

PcapWriter::~PcapWriter()
{
    Close();
}

bool
PcapWriter::Open(const std::string& path, int linkType, std::string* error)
{
    Close();
    m_path = path;
    m_frames = 0;
    m_waits = 0;
    m_file = std::fopen(path.c_str(), "wb");
    if (!m_file)
    {
        *error = "cannot create " + path + ": " + std::strerror(errno);
        return false;
    }
    // Before the first write, or stdio would have chosen its own buffer.
    m_buffer.resize(kBufferBytes);
    std::setvbuf(m_file, m_buffer.data(), _IOFBF, m_buffer.size());
    m_dead =
        pcap_open_dead_with_tstamp_precision(linkType, kSnapLength, PCAP_TSTAMP_PRECISION_MICRO);
    m_dumper = m_dead ? pcap_dump_fopen(m_dead, m_file) : nullptr;
    if (!m_dumper)
    {
        *error = "cannot start a pcap in " + path + ": " +
                 (m_dead ? pcap_geterr(m_dead) : "pcap_open_dead failed");
        if (m_dead)
        {
            pcap_close(m_dead);
            m_dead = nullptr;
        }
        std::fclose(m_file);
        m_file = nullptr;
        return false;
    }
    m_closing = false;
    m_block = Block{std::unique_ptr<uint8_t[]>(new uint8_t[kBlockBytes]), 0};
    m_writer = std::thread(&PcapWriter::WriterLoop, this);
    return true;
}

bool
PcapWriter::IsOpen() const
{
    return m_dumper != nullptr;
}

void
PcapWriter::Write(uint64_t timeNs, const uint8_t* data, uint32_t length)
{
    uint32_t caplen = 0;
    if (uint8_t* at = Reserve(timeNs, length, &caplen))
    {
        std::memcpy(at, data, caplen);
    }
}

uint8_t*
PcapWriter::Reserve(uint64_t timeNs, uint32_t length, uint32_t* caplen)
{
    if (!m_dumper)
    {
        return nullptr;
    }
    const RecordHeader r{timeNs,
                         length,
                         length < uint32_t(kSnapLength) ? length : uint32_t(kSnapLength)};
    if (m_block.used + sizeof(r) + r.caplen > kBlockBytes)
    {
        Hand(std::move(m_block));
    }
    uint8_t* at = m_block.bytes.get() + m_block.used;
    std::memcpy(at, &r, sizeof(r));
    m_block.used += sizeof(r) + r.caplen;
    ++m_frames;
    *caplen = r.caplen;
    return at + sizeof(r);
}

void
PcapWriter::Hand(Block block)
{
    Block next;
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        if (m_full.size() >= kMaxFullBlocks)
        {
            ++m_waits;
            m_changed.wait(lock, [this] { return m_full.size() < kMaxFullBlocks; });
        }
        m_full.push_back(std::move(block));
        if (!m_free.empty())
        {
            next = std::move(m_free.back());
            m_free.pop_back();
        }
    }
    m_changed.notify_all();
    if (!next.bytes)
    {
        next.bytes.reset(new uint8_t[kBlockBytes]);
    }
    next.used = 0;
    m_block = std::move(next);
}

void
PcapWriter::WriterLoop()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    while (true)
    {
        m_changed.wait(lock, [this] { return !m_full.empty() || m_closing; });
        if (m_full.empty())
        {
            return; // closing, and everything written
        }
        Block block = std::move(m_full.front());
        m_full.pop_front();
        lock.unlock();
        m_changed.notify_all(); // a Write waiting for room
        for (size_t at = 0; at + sizeof(RecordHeader) <= block.used;)
        {
            RecordHeader r;
            std::memcpy(&r, block.bytes.get() + at, sizeof(r));
            pcap_pkthdr h{};
            h.ts.tv_sec = time_t(r.timeNs / 1000000000);
            h.ts.tv_usec = suseconds_t(r.timeNs % 1000000000 / 1000);
            h.len = r.length;
            h.caplen = r.caplen;
            pcap_dump(reinterpret_cast<u_char*>(m_dumper), &h, block.bytes.get() + at + sizeof(r));
            at += sizeof(r) + r.caplen;
        }
        lock.lock();
        if (m_free.size() < kMaxFreeBlocks)
        {
            m_free.push_back(std::move(block));
        }
    }
}

bool
PcapWriter::Close(std::string* error)
{
    if (!m_dumper)
    {
        return true;
    }
    if (m_writer.joinable())
    {
        if (m_block.used > 0)
        {
            Hand(std::move(m_block));
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_closing = true;
        }
        m_changed.notify_all();
        m_writer.join();
    }
    m_block = Block();
    m_free.clear();
    // pcap_dump cannot report a failed fwrite; the stream's error flag keeps it.
    const bool ok = pcap_dump_flush(m_dumper) == 0 && !std::ferror(m_file);
    pcap_dump_close(m_dumper); // closes m_file
    pcap_close(m_dead);
    m_dumper = nullptr;
    m_dead = nullptr;
    m_file = nullptr;
    if (!ok && error)
    {
        *error = "writing " + m_path + " failed";
    }
    return ok;
}

uint64_t
PcapWriter::GetFrames() const
{
    return m_frames;
}

uint64_t
PcapWriter::GetWaits() const
{
    return m_waits;
}

} // namespace offloadlab
