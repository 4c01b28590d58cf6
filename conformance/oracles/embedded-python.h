#ifndef EMBEDDED_PYTHON_H
#define EMBEDDED_PYTHON_H

#include <string>

namespace offloadlab
{

/**
 * The process's one embedded Python (Debian's /usr/bin/python3, through pybind11), shared by
 * every component that calls Scapy: pybind11 allows a single interpreter per process, so none
 * of them may start its own.
 *
 * Ensure() starts the interpreter on first use, isolated so that a pyenv PYTHONHOME/PYTHONPATH
 * or a user site cannot replace Debian's packages, without Python's signal handlers and without
 * writing bytecode. If the process already runs Python (e.g. a Python host), that interpreter
 * is used. The interpreter lives until the process exits; nothing is imported until asked,
 * because importing Scapy takes about a second.
 *
 * Calls come from the thread that first called Ensure(), which keeps the GIL.
 */
class EmbeddedPython
{
  public:
    /// Starts Python once per process; false (and *why, if not null) when it cannot start.
    static bool Ensure(std::string* why);

    /**
     * Ensure() and import module (e.g. "scapy.layers.ipsec"). Python caches what it imported;
     * a failed import is remembered too, so that it is not retried on every call.
     */
    static bool Import(const char* module, std::string* why);

    /// Import("scapy.all"): all of Scapy's layers and functions.
    static bool ImportScapy(std::string* why);

    /// The interpreter's executable, named in error messages.
    static const char* Executable();
};

} // namespace offloadlab

#endif // EMBEDDED_PYTHON_H
