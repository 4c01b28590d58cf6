#include "embedded-python.h"

#include <exception>
#include <map>
#include <memory>
#include <pybind11/embed.h>

namespace py = pybind11;

namespace offloadlab
{

namespace
{

// Scapy is Debian's, so the interpreter must find Debian's prefix whatever is first on PATH.
constexpr const char* kPythonExecutable = "/usr/bin/python3";

/// The interpreter, started once; a function-local static so that components whose own statics
/// hold Python objects (and are built after this) are destroyed before Python finalizes.
struct Interpreter
{
    Interpreter();

    std::unique_ptr<py::scoped_interpreter> interpreter; // null if somebody else owns Python
    bool ok{false};
    std::string error;
    std::map<std::string, std::string> failedImports; // module -> why
};

Interpreter::Interpreter()
{
    // Somebody else (e.g. a Python host process) may own the interpreter already.
    if (Py_IsInitialized() != 0)
    {
        ok = true;
        return;
    }
    PyConfig config;
    // Isolated: a pyenv PYTHONHOME/PYTHONPATH or user site must not replace Debian's.
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0; // leave SIGINT to the C++ program
    config.write_bytecode = 0;          // never write into /usr/lib
    PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, kPythonExecutable);
    if (PyStatus_Exception(status) != 0)
    {
        PyConfig_Clear(&config);
        error = std::string("cannot configure Python ") + kPythonExecutable;
        return;
    }
    try
    {
        // pybind11 clears config; no program directory on sys.path (there is no script).
        interpreter = std::make_unique<py::scoped_interpreter>(&config, 0, nullptr, false);
        ok = true;
    }
    catch (const std::exception& e)
    {
        error = std::string("cannot start Python ") + kPythonExecutable + ": " + e.what();
    }
}

Interpreter&
GetInterpreter()
{
    static Interpreter interpreter;
    return interpreter;
}

bool
Fail(std::string* why, const std::string& message)
{
    if (why != nullptr)
    {
        *why = message;
    }
    return false;
}

} // namespace

bool
EmbeddedPython::Ensure(std::string* why)
{
    const Interpreter& interpreter = GetInterpreter();
    return interpreter.ok || Fail(why, interpreter.error);
}

bool
EmbeddedPython::Import(const char* module, std::string* why)
{
    if (!Ensure(why))
    {
        return false;
    }
    Interpreter& interpreter = GetInterpreter();
    const auto failed = interpreter.failedImports.find(module);
    if (failed != interpreter.failedImports.end())
    {
        return Fail(why, failed->second);
    }
    try
    {
        py::module_::import(module);
        return true;
    }
    catch (const std::exception& e)
    {
        const std::string message =
            std::string("cannot import ") + module + " with " + kPythonExecutable + ": " + e.what();
        interpreter.failedImports.emplace(module, message);
        return Fail(why, message);
    }
}

bool
EmbeddedPython::ImportScapy(std::string* why)
{
    return Import("scapy.all", why);
}

const char*
EmbeddedPython::Executable()
{
    return kPythonExecutable;
}

} // namespace offloadlab
