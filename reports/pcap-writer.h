#ifndef PCAP_WRITER_H
#define PCAP_WRITER_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

struct pcap;
struct pcap_dumper;

namespace offloadlab
{

/**
 * A pcap file (microsecond timestamps, as ns-3 writes them) through libpcap's dumper on a stdio
 * stream with a 1 MiB buffer: one write(2) per MiB of frames. ns-3's PcapFile writes every frame
 * of 1 KiB or more with a writev of its own (libstdc++'s filebuf bypasses its buffer for such
 * writes), which cost the real-time emulation a third of its plain throughput on a 2-core VM.
 * Not thread-safe: one writer.
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
    /// Writes out what is buffered and closes; false if a write failed at any point.
    bool Close(std::string* error = nullptr);
    uint64_t GetFrames() const;

  private:
    struct pcap* m_dead{nullptr};
    struct pcap_dumper* m_dumper{nullptr};
    std::FILE* m_file{nullptr};
    std::vector<char> m_buffer;
    std::string m_path;
    uint64_t m_frames{0};
};

} // namespace offloadlab

#endif // PCAP_WRITER_H
