// A host with N cores: which core runs each stage of a segment's way through the stack, and
// what that stage costs in each offload mode.
#ifndef SCALE_HOST_H
#define SCALE_HOST_H

#include "cpu-core.h"
#include "scale-costs.h"
#include "scale-wire.h"

#include "ns3/object.h"
#include "ns3/ptr.h"

#include <functional>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace ns3
{

/// How the NIC spreads received packets over its queues, one queue per core.
enum class ScaleRss : uint8_t
{
    Spread, //!< each new hash key gets the next queue (flow steering, as `ethtool -N` rules or
            //!< aRFS put each stream's receive on its own core): distinct keys never collide
    Hash,   //!< Toeplitz hash (the default Microsoft key) into a 128-entry indirection table
            //!< spread evenly over the queues, as `ethtool -x` shows by default
};

const char* ScaleRssName(ScaleRss rss); //!< "spread", "hash"
bool ParseScaleRss(const std::string& text, ScaleRss* rss);

/// One packet as the NIC carries it: a TSO/GRO segment of a stream, or a bare ACK.
struct ScaleSegment
{
    uint32_t flow{0};      //!< the stream's index (its port less the base port)
    uint32_t payload{0};   //!< TCP payload bytes (0: an ACK)
    uint32_t packets{1};   //!< MTU packets it stands for on the wire
    bool toReceiver{true}; //!< data direction (sender to receiver), or the ACKs' way back
    bool udp{false};       //!< a UDP datagram (the iMIX cells), not a TCP segment
};

struct ScaleHostConfig
{
    ScaleMode mode{ScaleMode::Baseline};
    uint32_t cores{1};
    double hz{2.3e9};
    ScaleCosts costs;
    ScaleRss rss{ScaleRss::Spread};
    bool rssAfterDecrypt{false};  //!< the NIC hashes the decrypted headers (crypto, packet)
    uint32_t sas{0};              //!< SA pairs the streams share round robin; 0: one per stream
    uint32_t rxRingPackets{1024}; //!< a receive queue's ring (mlx5's default RX ring size)
    /// Last-level cache contention on the receiver: the NIC writes received data into the LLC
    /// (Intel DDIO), but only into a few of its ways. Data that waits longer than those ways
    /// last is in DRAM when a core first reads it.
    bool llcContention{false};
    double ddioBytes{10e6};          //!< what DDIO may fill: 2 of 12 ways of a 60 MB LLC
    double dramBytesPerSecond{12e9}; //!< one core's streaming read from DRAM
};

/**
 * The stages of one host, charged to its cores:
 *  - data out (task, the stream's core): TCP/IP per TSO segment; in software IPsec XFRM per
 *    segment, then per MTU packet the software ESP (software GSO) and the cipher; in crypto
 *    offload XFRM per segment (the NIC segments and encrypts, GSO_ESP);
 *  - data in (softirq, the RSS core): per MTU packet the driver and GRO; in crypto offload
 *    xfrm_input per packet (esp4_gro_receive runs it before GRO); in software also the software
 *    ESP and the cipher per packet; then TCP per GRO segment;
 *  - the copy to the application (task, the stream's core), per byte;
 *  - ACKs out (softirq, the core that took the data) and in (softirq, the RSS core), ESP
 *    packets with their per-packet costs in software and crypto offload.
 * Packet offload leaves only baseline's stages. Where the CPU does an SA's state work
 * (software and crypto offload), each ESP packet takes the SA's lock.
 */
class ScaleHost : public Object
{
  public:
    static TypeId GetTypeId();

    void Setup(const ScaleHostConfig& config, const ScaleWire& wire);

    /// The host's stack sends s; toNic runs when its cores are done with it.
    void Transmit(const ScaleSegment& s, std::function<void()> toNic);
    /// The NIC received s; up runs (into the host's IP and TCP) when its cores are done. A
    /// datagram whose RSS core already has a full ring of packets waiting is dropped.
    void Receive(const ScaleSegment& s, std::function<void()> up);

    /// UDP's socket send buffer: datagrams of a stream the host holds (from the application's
    /// send to the NIC's transmit completion), and a callback for when one is done.
    uint32_t GetUdpInFlight(uint32_t flow) const;
    void SetUdpRoomCallback(uint32_t flow, std::function<void()> room);
    /// The NIC has sent a datagram of flow.
    void UdpTransmitted(uint32_t flow);
    uint64_t GetRxDrops() const; //!< datagrams dropped at a full receive ring

    uint32_t GetCoreCount() const;
    Ptr<CpuCore> GetCore(uint32_t i) const;
    /// The core the NIC's RSS gives the packets of this stream in this direction.
    uint32_t RxCoreOf(uint32_t flow, bool toReceiver);
    /// The SA (index) a stream's packets in this direction use.
    uint32_t SaOf(uint32_t flow) const;
    const ScaleHostConfig& GetConfig() const;
    void ResetStats();
    /// The most payload bytes the NIC had received that no application had copied yet (DMA'd
    /// data in the LLC's I/O ways or beyond them) since ResetStats.
    double GetMaxResidentBytes() const;
    /// The share of first reads of received payload that missed the LLC since ResetStats.
    double GetLlcMissShare() const;

  protected:
    void DoDispose() override;

  private:
    using RssKey = std::tuple<uint32_t, uint32_t, uint32_t, uint32_t, uint32_t>;
    RssKey KeyOf(uint32_t flow, bool toReceiver) const;
    double CipherOf(uint32_t payload, uint32_t packets, bool udp = false) const;
    /// What the CPU spends on the ESP of one packet (an ACK or a datagram) in this mode.
    double OnePacketEsp(uint32_t payload, bool udp) const;
    SaLock* LockOf(uint32_t flow, bool toReceiver);
    bool CpuDoesSaState() const;
    /// Cycles a core spends reading bytes of received payload for the first time: the part
    /// that DDIO's ways no longer hold comes from DRAM.
    double FirstReadPenalty(uint32_t bytes);

    ScaleHostConfig m_config;
    std::unique_ptr<ScaleWire> m_wire;
    std::vector<Ptr<CpuCore>> m_cores;
    static uint32_t HashOf(const RssKey& key); //!< Toeplitz with the default key
    std::map<RssKey, uint32_t> m_rxCores;      //!< each key's queue, chosen once
    std::vector<int32_t> m_rxCoreOfFlow[2];    //!< by direction (toReceiver), flow: -1 unknown
    std::map<std::pair<uint32_t, bool>, SaLock> m_locks;
    std::map<uint32_t, uint32_t> m_udpInFlight;
    std::map<uint32_t, std::function<void()>> m_udpRoom;
    uint64_t m_rxDrops{0};
    double m_resident{0};
    double m_maxResident{0};
    double m_firstReadBytes{0};
    double m_missedBytes{0};
};

/// The Toeplitz hash of input under key, as Microsoft's RSS specification defines it: each set
/// input bit adds the 32 key bits that start at its position.
uint32_t ToeplitzHash(const uint8_t* key, size_t keyLength, const uint8_t* input, size_t length);

} // namespace ns3

#endif // SCALE_HOST_H
