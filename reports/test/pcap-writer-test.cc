// PcapWriter read back by tshark (a reader nobody here wrote): frames, lengths, the snap
// length's cut, timestamps; the buffer holds frames until Close, and every frame of many blocks
// arrives in order; a bad path is named.
#include "pcap-writer.h"

#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace
{
namespace fs = std::filesystem;
using offloadlab::PcapWriter;

constexpr int kDltRaw = 12; // libpcap's DLT_RAW on Linux (LINKTYPE_RAW, 101, in the file)

/// An IPv4/UDP packet of `length` bytes (a valid header, so tshark dissects it as IP).
std::vector<uint8_t>
Ipv4Packet(uint32_t length, uint8_t fill)
{
    std::vector<uint8_t> p(length, fill);
    p[0] = 0x45;
    p[2] = uint8_t(length >> 8);
    p[3] = uint8_t(length);
    p[8] = 64;
    p[9] = 17;
    const uint8_t addresses[] = {192, 0, 2, 1, 192, 0, 2, 2};
    std::copy(std::begin(addresses), std::end(addresses), p.begin() + 12);
    return p;
}

std::string
Tshark(const fs::path& file, int* exitCode)
{
    const std::string cmd = "tshark -n -r '" + file.string() +
                            "' -T fields -e frame.len -e frame.cap_len -e frame.time_epoch "
                            "-e ip.dst 2>/dev/null";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0)
    {
        out.append(buf, n);
    }
    const int status = p ? pclose(p) : -1;
    *exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

class PcapWriterTest : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        m_dir = fs::temp_directory_path() / ("offloadlab-pcap-writer-" + std::to_string(getpid()));
        fs::create_directories(m_dir);
    }

    void TearDown() override
    {
        fs::remove_all(m_dir);
    }

    fs::path m_dir;
};

TEST_F(PcapWriterTest, TsharkReadsEveryFrameWithItsLengthAndTime)
{
    if (system("command -v tshark >/dev/null 2>&1") != 0)
    {
        GTEST_SKIP() << "tshark is not installed (ci/setup installs it)";
    }
    const fs::path file = m_dir / "frames.pcap";
    PcapWriter w;
    std::string error;
    ASSERT_TRUE(w.Open(file.string(), kDltRaw, &error)) << error;
    const auto small = Ipv4Packet(60, 0x11);
    const auto mtu = Ipv4Packet(1500, 0x22);
    const auto jumbo = Ipv4Packet(65535, 0x33);
    w.Write(1'500'000'000, small.data(), uint32_t(small.size())); // 1.5 s
    w.Write(2'000'123'999, mtu.data(), uint32_t(mtu.size()));     // 2.000123999 s
    w.Write(3'000'000'000, jumbo.data(), uint32_t(jumbo.size())); // the snap length itself
    EXPECT_EQ(w.GetFrames(), 3u);
    ASSERT_TRUE(w.Close(&error)) << error;

    int rc = 0;
    const std::string out = Tshark(file, &rc);
    ASSERT_EQ(rc, 0) << out;
    // Microsecond timestamps, as ns-3 writes them: the nanoseconds below a microsecond go.
    EXPECT_EQ(out,
              "60\t60\t1.500000000\t192.0.2.2\n"
              "1500\t1500\t2.000123000\t192.0.2.2\n"
              "65535\t65535\t3.000000000\t192.0.2.2\n")
        << out;
}

TEST_F(PcapWriterTest, HoldsFramesUntilClosed)
{
    const fs::path file = m_dir / "buffered.pcap";
    PcapWriter w;
    std::string error;
    ASSERT_TRUE(w.Open(file.string(), kDltRaw, &error)) << error;
    const auto frame = Ipv4Packet(1400, 0x44);
    for (int i = 0; i < 100; ++i)
    {
        w.Write(uint64_t(i) * 1000, frame.data(), uint32_t(frame.size()));
    }
    // 100 frames of 1.4 KB fit the 1 MiB buffer: nothing has reached the file yet, where ns-3's
    // PcapFile would have made 100 writes.
    EXPECT_EQ(fs::file_size(file), 0u);
    ASSERT_TRUE(w.Close(&error)) << error;
    // The 24-byte file header, then each frame with its 16-byte record header.
    EXPECT_EQ(fs::file_size(file), 24u + 100u * (16u + 1400u));
    EXPECT_FALSE(w.IsOpen());
    EXPECT_TRUE(w.Close(&error)) << "closing twice is harmless";
}

TEST_F(PcapWriterTest, KeepsEveryFrameInOrderAcrossBlocks)
{
    // 4.5 MB: five blocks through the writer thread, the last one handed over by Close.
    const fs::path file = m_dir / "blocks.pcap";
    PcapWriter w;
    std::string error;
    ASSERT_TRUE(w.Open(file.string(), kDltRaw, &error)) << error;
    constexpr int kFrames = 3000;
    for (int i = 0; i < kFrames; ++i)
    {
        const auto frame = Ipv4Packet(1500, uint8_t(i));
        w.Write(uint64_t(i) * 1000, frame.data(), uint32_t(frame.size())); // i microseconds
    }
    EXPECT_EQ(w.GetFrames(), uint64_t(kFrames));
    ASSERT_TRUE(w.Close(&error)) << error;
    EXPECT_EQ(fs::file_size(file), 24u + kFrames * (16u + 1500u));
    if (system("command -v tshark >/dev/null 2>&1") != 0)
    {
        GTEST_SKIP() << "tshark is not installed (ci/setup installs it): sizes checked only";
    }
    int rc = 0;
    const std::string out = Tshark(file, &rc);
    ASSERT_EQ(rc, 0) << out;
    std::istringstream lines(out);
    std::string line;
    int n = 0;
    while (std::getline(lines, line))
    {
        char expected[64];
        std::snprintf(expected, sizeof(expected), "1500\t1500\t0.%06d000\t192.0.2.2", n);
        ASSERT_EQ(line, expected) << "frame " << n;
        ++n;
    }
    EXPECT_EQ(n, kFrames);
}

TEST_F(PcapWriterTest, ABadPathIsNamed)
{
    PcapWriter w;
    std::string error;
    const std::string path = (m_dir / "no-such-dir" / "x.pcap").string();
    EXPECT_FALSE(w.Open(path, kDltRaw, &error));
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
    EXPECT_FALSE(w.IsOpen());
    const uint8_t byte = 0;
    w.Write(0, &byte, 1); // ignored, no crash
    EXPECT_EQ(w.GetFrames(), 0u);
}

TEST_F(PcapWriterTest, AFailedWriteFailsClose)
{
    if (!fs::exists("/dev/full"))
    {
        GTEST_SKIP() << "no /dev/full to fail writes";
    }
    PcapWriter w;
    std::string error;
    ASSERT_TRUE(w.Open("/dev/full", kDltRaw, &error)) << error;
    const auto frame = Ipv4Packet(1500, 0x55);
    for (int i = 0; i < 1000; ++i) // 1.5 MB: past the buffer, so a write is tried before Close
    {
        w.Write(uint64_t(i), frame.data(), uint32_t(frame.size()));
    }
    EXPECT_FALSE(w.Close(&error));
    EXPECT_NE(error.find("/dev/full"), std::string::npos) << error;
}

} // namespace
