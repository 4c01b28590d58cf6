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
    if (!m_dumper)
    {
        return;
    }
    pcap_pkthdr h{};
    h.ts.tv_sec = time_t(timeNs / 1000000000);
    h.ts.tv_usec = suseconds_t(timeNs % 1000000000 / 1000);
    h.len = length;
    h.caplen = length < uint32_t(kSnapLength) ? length : uint32_t(kSnapLength);
    pcap_dump(reinterpret_cast<u_char*>(m_dumper), &h, data);
    ++m_frames;
}

bool
PcapWriter::Close(std::string* error)
{
    if (!m_dumper)
    {
        return true;
    }
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

} // namespace offloadlab
