#include "tap-device.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace ns3
{

namespace
{
std::string
Reason(const std::string& what)
{
    return what + ": " + std::strerror(errno);
}
} // namespace

int
OpenTapInNamespace(const std::string& netnsPath, const std::string& name, std::string* error)
{
    if (name.empty() || name.size() >= IFNAMSIZ)
    {
        *error =
            "TAP name '" + name + "' must be 1 to " + std::to_string(IFNAMSIZ - 1) + " characters";
        return -1;
    }
    // The thread's own namespace, to come back to.
    const int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0)
    {
        *error = Reason("open /proc/thread-self/ns/net");
        return -1;
    }
    const int target = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0)
    {
        *error = Reason("open " + netnsPath);
        close(self);
        return -1;
    }
    if (setns(target, CLONE_NEWNET) != 0)
    {
        *error = Reason("setns " + netnsPath);
        close(target);
        close(self);
        return -1;
    }
    close(target);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
    {
        *error = Reason("open /dev/net/tun");
    }
    else
    {
        struct ifreq ifr;
        std::memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
        if (ioctl(fd, TUNSETIFF, &ifr) != 0)
        {
            *error = Reason("TUNSETIFF " + name);
            close(fd);
            fd = -1;
        }
    }
    if (setns(self, CLONE_NEWNET) != 0)
    {
        // The thread would go on in the host's namespace: nothing it did later could be trusted.
        *error = Reason("setns back to this process's namespace");
        if (fd >= 0)
        {
            close(fd);
        }
        close(self);
        std::abort();
    }
    close(self);
    return fd;
}

void
RunThisThreadAsBatch()
{
    const sched_param batch{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
}

} // namespace ns3
