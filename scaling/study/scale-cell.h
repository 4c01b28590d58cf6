// One cell of a scaling sweep: two hosts of N cores joined by an EmuNic-like link, N TCP
// streams from one to the other, throughput measured at the receiving applications.
#ifndef SCALE_CELL_H
#define SCALE_CELL_H

#include "scale-costs.h"
#include "scale-host.h"
#include "scale-wire.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ns3
{

/// How a core's clock depends on how many cores of its socket are busy.
struct ScaleFrequency
{
    bool turbo{true};            //!< false: every core at baseGhz
    double baseGhz{2.3};         //!< the nominal clock (Xeon Platinum 8380: 2.3 GHz, Intel ARK)
    double maxTurboGhz{3.4};     //!< with one or two cores busy (8380: 3.4 GHz, Intel ARK)
    double allCoreTurboGhz{3.0}; //!< with every core of the socket busy
    uint32_t socketCores{40};    //!< cores per socket (8380: 40)

    /// The clock of each of n busy cores: the maximum turbo for up to two, falling linearly to
    /// the all-core turbo at socketCores.
    double GhzFor(uint32_t busyCores) const;
};

const char* ScaleMixName(bool imix); //!< "imix", "fixed"
/// Parses a ScaleMixName into imix; false for anything else.
bool ParseScaleMix(const std::string& text, bool* imix);

struct ScaleCellConfig
{
    ScaleMode mode{ScaleMode::Baseline};
    uint32_t cpus{1};  //!< cores of each host
    uint32_t flows{0}; //!< TCP streams (0: one per CPU, the reference's one iperf3 per CPU)
    uint32_t sas{0};   //!< SA pairs the streams share (0: one per stream)
    double linkGbps{100};
    uint32_t mtu{1500};
    ScaleEncap encap{ScaleEncap::Transport};
    /// The traffic: false, one TCP bulk stream per flow (the reference's iperf3); true, one UDP
    /// stream per flow of simple-iMIX datagrams (ImixUdpPayloads) sent as fast as its socket's
    /// buffer of udpWindow datagrams lets it.
    bool imix{false};
    uint32_t udpWindow{128};
    ScaleFrequency frequency;
    ScaleCosts costs;
    ScaleRss rss{ScaleRss::Spread};
    bool rssAfterDecrypt{false};
    double cryptoCapGbps{0}; //!< 0: none
    /// Last-level cache contention on the receiver (ScaleHostConfig::llcContention): the
    /// 8380's 60 MB LLC (Intel ARK), of which DDIO writes into 2 of its 12 ways (the default
    /// Farshin et al. measured, USENIX ATC 2020), and one core's read from DRAM.
    bool llcContention{false};
    double ddioMegabytes{10};
    double dramGbytesPerSecond{12};
    double warmupMs{20};
    double measureMs{50};
    /// Each stream's send and receive buffer: it bounds the data in flight. 1 MiB covers the
    /// bandwidth-delay product of every cell (the RTT is tens of microseconds) and keeps the
    /// queue at the bottleneck short, as TSQ and BQL keep it in Linux; with 6 MiB (tcp_rmem's
    /// maximum) the queue still grows through the measured time and delivery lags the wire.
    uint32_t receiveBufferBytes{1 << 20};
};

struct ScaleCoreLoad
{
    double utilisation{0}; //!< busy share of the measured time
    double spin{0};        //!< of it, spinning on SA locks
};

struct ScaleCellResult
{
    double gbps{0};          //!< TCP payload at the receiving applications
    double wireGbps{0};      //!< data direction, Ethernet bytes with preamble and gap
    double mpps{0};          //!< data direction, packets on the wire per second, millions
    double deliveredMpps{0}; //!< datagrams (iMIX) or MSS packets the applications received
    double ghz{0};           //!< each core's clock in this cell
    uint32_t mss{0};
    uint32_t segmentPackets{0}; //!< MSS packets per TSO segment
    std::vector<ScaleCoreLoad> receiverCores;
    std::vector<ScaleCoreLoad> senderCores;
    std::vector<uint32_t> rxCoreOfFlow; //!< the RSS core each stream's data lands on
    uint64_t drops{0};
    double residentMegabytes{0}; //!< the receiver's received but uncopied payload, at most
    double llcMissShare{0};      //!< first reads of received payload that missed the LLC
    double wallSeconds{0};
};

/// Runs one cell to the end of its measured time.
ScaleCellResult RunScaleCell(const ScaleCellConfig& config);

} // namespace ns3

#endif // SCALE_CELL_H
