// SIGINT and SIGTERM during `offloadlab certify`: while a CertifyInterrupt lives, the signal
// only sets a flag; the runner stops its children, writes the reports marked interrupted and
// exits 128 + the signal (130 for SIGINT, 143 for SIGTERM).
#ifndef CERTIFY_INTERRUPT_H
#define CERTIFY_INTERRUPT_H

#include <csignal>

namespace offloadlab
{

class CertifyInterrupt
{
  public:
    /// Seconds a child gets between SIGTERM and SIGKILL.
    static constexpr double kGraceSeconds = 2.0;

    /// Installs the handlers (the earlier ones come back on destruction).
    CertifyInterrupt();
    ~CertifyInterrupt();
    CertifyInterrupt(const CertifyInterrupt&) = delete;
    CertifyInterrupt& operator=(const CertifyInterrupt&) = delete;

    /// The signal received (SIGINT or SIGTERM), 0 when none.
    static int Pending();

  private:
    struct sigaction m_oldInt;
    struct sigaction m_oldTerm;
};

} // namespace offloadlab

#endif // CERTIFY_INTERRUPT_H
