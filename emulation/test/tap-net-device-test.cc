// TapNetDevice on a real TAP in a namespace of the test's own: while the simulator is busy, its
// reader takes only its read-ahead from the TAP (the kernel counts a TAP's TX when the reader
// reads a frame), the rest wait in the host's queue and all arrive in order afterwards; frames
// that waited past TargetLag shrink the read-ahead;
// and disposing the device returns at once while the reader waits on a stopped simulator; a TAP
// deleted under the reader ends it instead of making it spin.
//
// Needs root for the namespace (CI is root); skips with the reason elsewhere.
#include "harness-process.h"
#include "realtime-runner.h"
#include "tap-device.h"
#include "tap-net-device.h"
#include "test-namespace.h"

#include "ns3/core-module.h"
#include "ns3/network-module.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mutex>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ns3;

namespace
{

constexpr uint16_t kPort = 9999;

/// The TAP's TX count, which tun counts when the reader reads a frame (tun_put_user).
uint64_t
TxPackets(const TestNamespace& ns, const std::string& dev)
{
    return std::strtoull(
        ns.ExecOutput("cat /sys/class/net/" + dev + "/statistics/tx_packets").c_str(),
        nullptr,
        10);
}

/// Sends count UDP datagrams to 10.77.0.2:kPort from inside the namespace, numbered from first,
/// gap apart.
bool
SendFromNamespace(const std::string& netnsPath,
                  uint32_t first,
                  uint32_t count,
                  std::chrono::microseconds gap = std::chrono::microseconds(0))
{
    bool ok = false;
    std::thread sender([&] {
        const int ns = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) != 0)
        {
            return;
        }
        close(ns);
        const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(kPort);
        inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
        ok = s >= 0;
        for (uint32_t i = first; ok && i < first + count; ++i)
        {
            const uint32_t n = htonl(i);
            ok = sendto(s, &n, sizeof(n), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) ==
                 ssize_t(sizeof(n));
            if (gap.count() > 0)
            {
                std::this_thread::sleep_for(gap);
            }
        }
        close(s);
    });
    sender.join(); // a thread of its own: it ends in the namespace
    return ok;
}

/// The numbers of the test's datagrams the device passed up, in order.
struct Received
{
    std::mutex mutex;
    std::vector<uint32_t> numbers;

    size_t Size()
    {
        std::lock_guard<std::mutex> lock(mutex);
        return numbers.size();
    }

    bool WaitFor(size_t n)
    {
        for (int i = 0; i < 300 && Size() < n; ++i)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return Size() >= n;
    }
};

bool
Take(Received* received,
     Ptr<NetDevice>,
     Ptr<const Packet> packet,
     uint16_t protocol,
     const Address&)
{
    uint8_t b[32];
    if (protocol != 0x0800 || packet->GetSize() < 32 || packet->CopyData(b, 32) != 32 ||
        b[9] != 17 || (uint16_t(b[22]) << 8 | b[23]) != kPort)
    {
        return true; // not the test's
    }
    std::lock_guard<std::mutex> lock(received->mutex);
    received->numbers.push_back(uint32_t(b[28]) << 24 | uint32_t(b[29]) << 16 |
                                uint32_t(b[30]) << 8 | b[31]);
    return true;
}

/// A TapNetDevice on fd in a node of its own, made in the simulator thread (it starts reading),
/// passing the test's datagrams to received when given.
Ptr<TapNetDevice>
MakeTap(RealtimeRunner& runner, int fd, const char* mac, Received* received = nullptr)
{
    Ptr<TapNetDevice> tap;
    runner.Call([&] {
        Ptr<Node> node = CreateObject<Node>();
        tap = CreateObject<TapNetDevice>();
        tap->SetAddress(Mac48Address(mac));
        tap->SetFileDescriptor(fd);
        node->AddDevice(tap);
        if (received)
        {
            tap->SetReceiveCallback(MakeBoundCallback(&Take, received));
        }
    });
    return tap;
}

TEST(TapNetDeviceTest, ReadsNoFurtherAheadThanItsRingAndLosesNothingItRead)
{
    if (geteuid() != 0)
    {
        GTEST_SKIP() << "needs root for a network namespace (CI runs as root)";
    }
    TestNamespace ns("olab-tnd-");
    ASSERT_TRUE(ns.Make() && ns.Exec("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
                                     "net.ipv6.conf.default.disable_ipv6=1") == 0);
    std::string error;
    const int fd = OpenTapInNamespace(ns.Path(), "tnd0", &error);
    ASSERT_GE(fd, 0) << error;
    ASSERT_EQ(ns.Ip("link set tnd0 txqueuelen 1000 up"), 0);
    ASSERT_EQ(ns.Ip("addr add 10.77.0.1/24 dev tnd0"), 0);
    ASSERT_EQ(ns.Ip("neigh add 10.77.0.2 lladdr 02:00:00:00:77:02 dev tnd0"), 0);

    // A HardLimit the test's own 400 ms block stays under.
    RealtimeRunner::UseRealtime(Seconds(10));
    RealtimeRunner runner;
    runner.Start();
    Received received;
    Ptr<TapNetDevice> tap = MakeTap(runner, fd, "02:00:00:00:77:02", &received);
    // The reader runs: a first datagram goes through.
    ASSERT_TRUE(SendFromNamespace(ns.Path(), 0, 1));
    ASSERT_TRUE(received.WaitFor(1)) << "the device never passed a frame up";

    // The simulator busy for 400 ms: 200 datagrams meanwhile, one every 1 ms.
    std::atomic<bool> blocked{false};
    std::atomic<bool> sent{false};
    uint64_t readDuringBlock = 0;
    std::thread host([&] {
        while (!blocked)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        const uint64_t before = TxPackets(ns, "tnd0");
        sent = SendFromNamespace(ns.Path(), 1, 200, std::chrono::microseconds(1000));
        readDuringBlock = TxPackets(ns, "tnd0") - before;
    });
    runner.Call([&] {
        blocked = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
    });
    host.join();
    ASSERT_TRUE(sent);
    // The read-ahead starts at a sixteenth of ReadAhead's 1,000 frames: 60, in markers of 4.
    // FdNetDevice's own reader read all 200 (up to 1,000), and so would a reader that counted
    // a marker as taken when it placed it.
    EXPECT_EQ(tap->GetReadAheadRange().second, 60u);
    EXPECT_LE(readDuringBlock, 60u + TapNetDevice::kFramesPerMarker)
        << "frames read while the simulator was busy";
    EXPECT_GE(readDuringBlock, 56u) << "the reader did not read its read-ahead";
    EXPECT_GE(tap->GetReaderWaits(), 1u);

    ASSERT_TRUE(received.WaitFor(201)) << "got " << received.Size() << " of 201";
    // The markers of the block waited far past TargetLag (1 ms): the read-ahead shrank.
    EXPECT_LT(tap->GetReadAheadRange().first, 40u);
    {
        std::lock_guard<std::mutex> lock(received.mutex);
        for (uint32_t i = 0; i < received.numbers.size(); ++i)
        {
            ASSERT_EQ(received.numbers[i], i) << "datagram " << i << " out of order or lost";
        }
    }

    // A reader waiting for a simulator that will not run again: dispose returns at once.
    runner.Call([&] {
        blocked = false;
        Simulator::Stop();
    });
    runner.Stop();
    ASSERT_TRUE(SendFromNamespace(ns.Path(), 1000, 100));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto t0 = std::chrono::steady_clock::now();
    tap->Dispose();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(ms, 1000.0) << "Dispose waited for the reader";
    Simulator::Destroy();
}

/// CPU time of this process, in milliseconds.
double
CpuMs()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
           (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

TEST(TapNetDeviceTest, ATapThatIsGoneEndsTheReaderInsteadOfSpinning)
{
    if (geteuid() != 0)
    {
        GTEST_SKIP() << "needs root for a network namespace (CI runs as root)";
    }
    TestNamespace ns("olab-tng-");
    ASSERT_TRUE(ns.Make());
    std::string error;
    const int fd = OpenTapInNamespace(ns.Path(), "tng0", &error);
    ASSERT_GE(fd, 0) << error;
    ASSERT_EQ(ns.Ip("link set tng0 up"), 0);
    RealtimeRunner::UseRealtime(Seconds(10));
    RealtimeRunner runner;
    runner.Start();
    Ptr<TapNetDevice> tap = MakeTap(runner, fd, "02:00:00:00:77:03");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The interface deleted under the open descriptor: reads fail from now on, and select keeps
    // calling the descriptor readable.
    ASSERT_EQ(ns.Ip("link del tng0"), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double before = CpuMs();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_LT(CpuMs() - before, 100.0) << "a thread of the process spun for the half second";
    runner.Stop();
    tap->Dispose();
    Simulator::Destroy();
}

} // namespace
