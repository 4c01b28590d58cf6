// Opening a TAP device inside another network namespace (an emulated host's), for an ns-3
// FdNetDevice. Debian's ns-3 tap helpers exec a creator program at a build-time path that does
// not exist, so the emulation opens the TAP itself.
#ifndef TAP_DEVICE_H
#define TAP_DEVICE_H

#include <string>

namespace ns3
{

/**
 * Creates the TAP interface `name` (IFF_TAP | IFF_NO_PI) in the network namespace at netnsPath
 * (for example /proc/<pid>/ns/net) and returns its file descriptor, or -1 with the reason in
 * *error. Only the calling thread enters the namespace, and it is back in its own before this
 * returns. The interface lives as long as the descriptor: closing it (or the process ending)
 * removes it, so a crashed run leaves no TAP behind.
 */
int OpenTapInNamespace(const std::string& netnsPath, const std::string& name, std::string* error);

/**
 * Makes the calling thread (a TAP's reader or writer) SCHED_BATCH: woken by the simulator's
 * thread, it then does not preempt that thread on its CPU (the scheduler lets a batch task
 * preempt no normal one) and still runs on another.
 */
void RunThisThreadAsBatch();

} // namespace ns3

#endif // TAP_DEVICE_H
