// How the command's tests run it: a shell command line, its exit code and everything it printed.
#ifndef CLI_TEST_SHELL_H
#define CLI_TEST_SHELL_H

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace clitest
{

struct Output
{
    int exitCode{-1};
    std::string text; //!< stdout and stderr
};

/// Runs command with `sh -c`, stderr joined to stdout.
inline Output
Shell(const std::string& command)
{
    Output out;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe)
    {
        return out;
    }
    std::array<char, 4096> buffer;
    size_t n;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    {
        out.text.append(buffer.data(), n);
    }
    const int status = pclose(pipe);
    out.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

/// s as one word of a shell command line.
inline std::string
Quote(const std::string& s)
{
    std::string q = "'";
    for (char c : s)
    {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
}

/// A fresh folder for one test, /tmp/offloadlab-<name>-<pid>, removed at the end.
class TempDir
{
  public:
    explicit TempDir(const std::string& name)
        : m_path(std::filesystem::temp_directory_path() /
                 ("offloadlab-" + name + "-" + std::to_string(getpid())))
    {
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }

    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& Path() const
    {
        return m_path;
    }

  private:
    std::filesystem::path m_path;
};

} // namespace clitest

#endif // CLI_TEST_SHELL_H
