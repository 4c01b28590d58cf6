// A network namespace of one test's own, named with the test's prefix and pid (parallel runs do
// not collide), deleted with everything in it when the object goes.
#ifndef TEST_NAMESPACE_H
#define TEST_NAMESPACE_H

#include "harness-process.h"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace ns3
{

class TestNamespace
{
  public:
    explicit TestNamespace(const std::string& prefix)
        : m_name(prefix + std::to_string(getpid()))
    {
    }

    ~TestNamespace()
    {
        std::system(("ip netns del " + m_name + " 2>/dev/null").c_str());
    }

    TestNamespace(const TestNamespace&) = delete;
    TestNamespace& operator=(const TestNamespace&) = delete;

    /// ip netns add; false if it failed.
    bool Make()
    {
        return std::system(("ip netns add " + m_name).c_str()) == 0;
    }

    /// `ip -n NAME args`: its exit status.
    int Ip(const std::string& args) const
    {
        return std::system(("ip -n " + m_name + " " + args).c_str());
    }

    /// A shell command run inside the namespace (`ip netns exec`): its exit status.
    int Exec(const std::string& command) const
    {
        return std::system(("ip netns exec " + m_name + " " + command).c_str());
    }

    /// A shell command's output, run inside the namespace.
    std::string ExecOutput(const std::string& command) const
    {
        return ShellOutput("ip netns exec " + m_name + " " + command);
    }

    int32_t Ifindex(const std::string& dev) const
    {
        const std::string out = ShellOutput("ip -n " + m_name + " -o link show " + dev);
        return out.empty() ? -1 : std::atoi(out.c_str());
    }

    std::string Path() const
    {
        return "/run/netns/" + m_name;
    }

  private:
    std::string m_name;
};

} // namespace ns3

#endif // TEST_NAMESPACE_H
