// HostLinkWatcher in a real network namespace: it starts from the interface's state as the
// kernel gives it (RTM_GETLINK), so a down of an interface that was up already is heard, and it
// reports every IFF_UP change after, as Linux's NETDEV_DOWN / NETDEV_UP reach XFRM.
//
// Needs root for the namespace (CI is root); skips with the reason elsewhere.
#include "harness-process.h"
#include "host-link-watcher.h"
#include "test-namespace.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <gtest/gtest.h>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

using namespace ns3;

namespace
{

/// What the watcher reported, waited for.
struct Heard
{
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<bool> changes;

    bool WaitFor(size_t n)
    {
        std::unique_lock<std::mutex> lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(5), [&] { return changes.size() >= n; });
    }
};

TEST(HostLinkWatcherTest, StartsFromTheStateNowAndHearsEveryChange)
{
    if (geteuid() != 0)
    {
        GTEST_SKIP() << "needs root for a network namespace";
    }
    TestNamespace ns("olab-lw-");
    ASSERT_TRUE(ns.Make() && ns.Ip("link add lw0 type veth peer name lw1") == 0)
        << "ip netns add / ip link add veth";
    ASSERT_EQ(ns.Ip("link set lw0 up"), 0);
    const int32_t ifindex = ns.Ifindex("lw0");
    ASSERT_GT(ifindex, 0);
    Heard heard;
    HostLinkWatcher watcher;
    std::string error;
    ASSERT_TRUE(watcher.Start(
        ns.Path(),
        ifindex,
        [&](bool up) {
            std::lock_guard<std::mutex> lock(heard.mutex);
            heard.changes.push_back(up);
            heard.changed.notify_all();
        },
        &error))
        << error;
    // Up already: nothing to report until it goes down.
    ASSERT_EQ(ns.Ip("link set lw0 down"), 0);
    ASSERT_TRUE(heard.WaitFor(1)) << "the down of an interface that was up at start";
    ASSERT_EQ(ns.Ip("link set lw0 up"), 0);
    ASSERT_TRUE(heard.WaitFor(2));
    // Another interface's changes are not this one's.
    ASSERT_EQ(ns.Ip("link set lw1 up"), 0);
    ASSERT_EQ(ns.Ip("link set lw1 down"), 0);
    // Deleting it is a down (NETDEV_UNREGISTER flushes too).
    ASSERT_EQ(ns.Ip("link del lw0"), 0);
    ASSERT_TRUE(heard.WaitFor(3));
    watcher.Stop();
    std::lock_guard<std::mutex> lock(heard.mutex);
    EXPECT_EQ(heard.changes, (std::vector<bool>{false, true, false}));
    EXPECT_EQ(watcher.GetMalformed(), 0u);
}

TEST(HostLinkWatcherTest, ANamespaceThatIsNotThereIsAnError)
{
    HostLinkWatcher watcher;
    std::string error;
    EXPECT_FALSE(watcher.Start(
        "/run/netns/olab-no-such-namespace",
        1,
        [](bool) {},
        &error));
    EXPECT_NE(error.find("olab-no-such-namespace"), std::string::npos) << error;
    watcher.Stop();
}

} // namespace
