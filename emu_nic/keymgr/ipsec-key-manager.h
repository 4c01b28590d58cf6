#ifndef IPSEC_KEY_MANAGER_H
#define IPSEC_KEY_MANAGER_H

#include "xfrm-stack.h"

#include "ns3/nstime.h"
#include "ns3/object.h"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace ns3
{

/// IKE's NAT-T port (RFC 3948), where ESP-in-UDP goes.
constexpr uint16_t kIkeNatTPort = 4500;

/// One end of a connection: the node, its IPsec address, what it protects, how it offloads.
struct IpsecPeerConfig
{
    Ptr<Node> node;
    XfrmAddress address;      //!< the SA endpoint (tunnel endpoint or host address), either family
    XfrmAddress subnet;       //!< traffic selector; the address itself in transport mode
    uint8_t subnetPrefix{32}; //!< 32 or 128 for a host
    Ptr<NetDevice> device;    //!< the NIC the SAs are offloaded to
    XfrmOffloadType offload{XfrmOffloadType::None};
    /// Behind a NAT: the address the other peer sees this one at (what IKE learns from the
    /// IKE_SA_INIT NAT detection); unset (0.0.0.0) when there is no NAT. The other end's SAs and
    /// policies use it, this end's its own address. Needs udpEncap.
    XfrmAddress seenAs{Ipv4Address::GetAny()};

    /// The address of this peer in the SAs held by `holderIsThis ? this : the other` peer.
    XfrmAddress AddressFor(bool holderIsThis) const
    {
        return holderIsThis || seenAs.IsAny() ? address : seenAs;
    }
};

/// A connection between two peers, like a strongSwan `children` section.
struct IpsecConnectionConfig
{
    std::string name;
    IpsecPeerConfig left;
    IpsecPeerConfig right;
    XfrmMode mode{XfrmMode::Transport};
    EspAlgorithm::Suite suite{EspAlgorithm::Suite::AesGcm};
    uint32_t keyBits{128};
    uint32_t replayWindow{32};
    bool esn{false};
    XfrmLifetimeConfig lifetime;
    /// ESP-in-UDP on port 4500 both ways (RFC 3948; strongSwan's encap=yes, or what IKE does on
    /// finding a NAT): every SA gets UDP_ENCAP_ESPINUDP, both ends' stacks take port 4500.
    bool udpEncap{false};
    uint32_t policyPriority{100};
    /// Time of the CREATE_CHILD_SA exchange: new inbound SAs are installed at once, the new
    /// outbound ones this long after (make-before-break).
    Time rekeyDelay{MilliSeconds(2)};
    /// How long old inbound SAs stay after the switch, for packets still in flight.
    Time oldInboundGrace{MilliSeconds(50)};
};

/// One SA the key manager installed: everything a report or a Wireshark key file needs.
struct IpsecSaRecord
{
    std::string connection;
    uint32_t generation{0}; //!< 0 for the first CHILD_SA, +1 per rekey
    uint32_t nodeId{0};
    std::string direction; //!< "out" or "in" on that node
    XfrmAddress saddr;
    XfrmAddress daddr;
    uint32_t spi{0};
    XfrmMode mode{XfrmMode::Transport};
    EspAlgorithm algorithm;
    bool esn{false};
    XfrmOffloadType offloadRequested{XfrmOffloadType::None};
    XfrmOffloadType offloadActual{XfrmOffloadType::None};
    Time installed;
    Ptr<XfrmState> state; //!< kept after deletion so its final counters stay readable
    bool alive{true};
    Ptr<XfrmStack> stack;
};

/// Something the key manager did or was told, in time order.
struct IpsecKmEvent
{
    Time time;
    std::string connection;
    /// install, soft-expire, hard-expire, rekey, delete, offload-refused (installed again
    /// without offload)
    std::string kind;
    uint32_t nodeId{0};
    uint32_t spi{0};
    std::string detail;
};

/**
 * A small key manager for pure simulation, standing in for IKE: installs SA pairs and policies
 * from a connection description with fresh test keys, rekeys on soft expire (new SPIs,
 * make-before-break) and forgets states the stack deleted on hard expire or link down.
 */
class IpsecKeyManager : public Object
{
  public:
    static TypeId GetTypeId();
    IpsecKeyManager();

    /// Seeds the key and SPI generator (the simulation stays deterministic).
    void SetSeed(uint64_t seed);
    /// Installs the connection's policies and first CHILD_SA; false + reason on error.
    bool AddConnection(const IpsecConnectionConfig& config, std::string* error);

    const std::vector<IpsecSaRecord>& GetSaRecords() const;
    const std::vector<IpsecKmEvent>& GetEvents() const;
    uint32_t GetRekeyCount() const;

  protected:
    void DoDispose() override;

  private:
    struct ChildSa
    {
        uint32_t generation{0};
        uint32_t spiLeftToRight{0};
        uint32_t spiRightToLeft{0};
        EspAlgorithm keysLeftToRight;
        EspAlgorithm keysRightToLeft;
        std::vector<size_t> inbound;  //!< indexes into m_records
        std::vector<size_t> outbound; //!< indexes into m_records
        bool rekeying{false};
        bool superseded{false};
    };

    struct Connection
    {
        IpsecConnectionConfig config;
        uint32_t reqid{0};
        std::vector<ChildSa> children;
    };

    Ptr<XfrmStack> StackOf(Ptr<Node> node, std::string* error) const;
    bool InstallPolicies(Connection& c, std::string* error);
    /// Installs a child's inbound SAs (both ends) or its outbound SAs (both ends).
    bool InstallChildHalf(size_t connection, size_t child, bool outbound, std::string* error);
    ChildSa NewChild(const IpsecConnectionConfig& config, uint32_t generation);
    size_t InstallSa(Connection& c,
                     uint32_t generation,
                     const IpsecPeerConfig& from,
                     const IpsecPeerConfig& to,
                     bool outbound,
                     uint32_t spi,
                     const EspAlgorithm& algorithm,
                     std::string* error);
    EspAlgorithm NewAlgorithm(const IpsecConnectionConfig& config);
    uint32_t NewSpi();
    void OnExpire(Ptr<XfrmState> x, bool hard);
    void StartRekey(size_t connection, size_t child);
    void DeleteRecordState(size_t record);
    void Record(const std::string& connection,
                const std::string& kind,
                uint32_t nodeId,
                uint32_t spi,
                const std::string& detail);
    void Watch(Ptr<XfrmStack> stack);

    std::mt19937_64 m_random;
    uint32_t m_nextSpi;
    std::vector<Connection> m_connections;
    std::vector<IpsecSaRecord> m_records;
    std::map<const XfrmState*, std::pair<size_t, size_t>> m_stateOwner; //!< -> (connection, child)
    std::vector<IpsecKmEvent> m_events;
    std::vector<Ptr<XfrmStack>> m_watched;
    uint32_t m_rekeys{0};
};

} // namespace ns3

#endif // IPSEC_KEY_MANAGER_H
