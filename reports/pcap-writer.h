#ifndef PCAP_WRITER_H
#define PCAP_WRITER_H

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct pcap;
struct pcap_dumper;

namespace offloadlab
{

/**
 * A pcap file (microsecond timestamps, as ns-3 writes them) through libpcap's dumper on a stdio
 * stream with a 1 MiB buffer, written by a thread of its own. ns-3's PcapFile writes every frame
 * of 1 KiB or more with a writev of its own (libstdc++'s filebuf bypasses its buffer for such
 * writes), which cost the real-time emulation a third of its plain throughput on a 2-core VM; and
 * even a write(2) per MiB, on the simulator's thread, cost it a fifth of its time at full rate
 * (the page cache's copy). Write only copies the frame into a 1 MiB block; full blocks go to the
 * writer thread. At most 64 blocks wait: past that, Write waits for the disk (counted), and no
 * frame is ever left out. One thread calls Write and Close.
 */
class PcapWriter
{
  public:
    PcapWriter() = default;
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    /// Creates (truncates) the file and writes its header; linkType is a libpcap DLT_ value. False
    /// names the path and the cause.
    bool Open(const std::string& path, int linkType, std::string* error);
    bool IsOpen() const;
    /// One frame, whole (the snap length is 65535, as ns-3's): a frame past it is cut there.
    void Write(uint64_t timeNs, const uint8_t* data, uint32_t length);
    /// Room for a frame of length bytes, for the caller to fill with its first *caplen bytes
    /// (length cut at the snap length) before the next call: the frame is copied once, straight
    /// from where it is. nullptr when the file is not open.
    uint8_t* Reserve(uint64_t timeNs, uint32_t length, uint32_t* caplen);
    /// Writes out what is buffered and closes; false if a write failed at any point.
    bool Close(std::string* error = nullptr);
    uint64_t GetFrames() const;
    /// Times Write waited for the writer thread (64 full blocks were waiting).
    uint64_t GetWaits() const;

  private:
    /// kBlockBytes of records, used bytes filled; never zero-filled.
    struct Block
    {
        std::unique_ptr<uint8_t[]> bytes;
        size_t used{0};
    };

    void WriterLoop();
    void Hand(Block block); //!< to the writer thread; waits while 64 blocks do

    struct pcap* m_dead{nullptr};
    struct pcap_dumper* m_dumper{nullptr};
    std::FILE* m_file{nullptr}; //!< the writer thread's, once it runs
    std::vector<char> m_buffer;
    std::string m_path;
    uint64_t m_frames{0};
    uint64_t m_waits{0};

    Block m_block; //!< the caller's: records not handed over yet
    std::thread m_writer;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Block> m_full;  //!< guarded by m_mutex
    std::vector<Block> m_free; //!< written blocks, for reuse; guarded by m_mutex
    bool m_closing{false};     //!< guarded by m_mutex
};

} // namespace offloadlab

#endif // PCAP_WRITER_H
