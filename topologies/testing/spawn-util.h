// Starting a helper process from a test, with its output in files, and reading them back.
#ifndef SPAWN_UTIL_H
#define SPAWN_UTIL_H

#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace spawntest
{

/// posix_spawnp of argv (found on PATH) with stdout to outPath and stderr to errPath (to
/// stdout's file when empty), in env ("NAME=value" strings; empty: this process's environment).
/// The child's PID, or -1 with errno's value in *error.
inline pid_t
SpawnLogged(std::vector<std::string> argv,
            const std::string& outPath,
            const std::string& errPath = "",
            std::vector<std::string> env = {},
            int* error = nullptr)
{
    std::vector<char*> args;
    for (auto& a : argv)
    {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env)
    {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions,
                                     1,
                                     outPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    if (errPath.empty())
    {
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    else
    {
        posix_spawn_file_actions_addopen(&actions,
                                         2,
                                         errPath.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
    }
    pid_t pid = -1;
    const int spawned = posix_spawnp(&pid,
                                     args[0],
                                     &actions,
                                     nullptr,
                                     args.data(),
                                     env.empty() ? environ : envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error)
    {
        *error = spawned;
    }
    return spawned == 0 ? pid : -1;
}

/// A helper's output file, whole ("" when it is not there).
inline std::string
ReadFile(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace spawntest

#endif // SPAWN_UTIL_H
