#include "ipsec-key-manager.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

#include <sstream>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("IpsecKeyManager");
NS_OBJECT_ENSURE_REGISTERED(IpsecKeyManager);

TypeId
IpsecKeyManager::GetTypeId()
{
    static TypeId tid = TypeId("ns3::IpsecKeyManager")
                            .SetParent<Object>()
                            .SetGroupName("EmuNic")
                            .AddConstructor<IpsecKeyManager>();
    return tid;
}

IpsecKeyManager::IpsecKeyManager()
{
    SetSeed(1);
}

void
IpsecKeyManager::SetSeed(uint64_t seed)
{
    m_random.seed(seed);
    // SPIs from a seeded start so that two runs with different seeds use different SPIs.
    m_nextSpi = 0x1000 + uint32_t(m_random() % 0xf000) * 0x100;
}

void
IpsecKeyManager::DoDispose()
{
    m_records.clear();
    m_stateOwner.clear();
    m_connections.clear();
    m_watched.clear();
    Object::DoDispose();
}

uint32_t
IpsecKeyManager::NewSpi()
{
    return m_nextSpi++;
}

EspAlgorithm
IpsecKeyManager::NewAlgorithm(const IpsecConnectionConfig& config)
{
    auto bytes = [this](size_t n) {
        std::vector<uint8_t> v(n);
        for (auto& b : v)
        {
            b = uint8_t(m_random());
        }
        return v;
    };
    if (config.suite == EspAlgorithm::Suite::AesGcm)
    {
        return EspAlgorithm::Gcm(bytes(config.keyBits / 8 + 4));
    }
    return EspAlgorithm::CbcSha256(bytes(config.keyBits / 8), bytes(32));
}

Ptr<XfrmStack>
IpsecKeyManager::StackOf(Ptr<Node> node, std::string* error) const
{
    Ptr<XfrmStack> stack = node ? node->GetObject<XfrmStack>() : nullptr;
    if (!stack && error)
    {
        std::ostringstream os;
        os << "node: " << (node ? std::to_string(node->GetId()) : std::string("null"))
           << " has no XfrmStack (IpsecHelper::Install it first)";
        *error = os.str();
    }
    return stack;
}

void
IpsecKeyManager::Watch(Ptr<XfrmStack> stack)
{
    for (const auto& s : m_watched)
    {
        if (s == stack)
        {
            return;
        }
    }
    stack->SetExpireCallback(MakeCallback(&IpsecKeyManager::OnExpire, this));
    m_watched.push_back(stack);
}

void
IpsecKeyManager::Record(const std::string& connection,
                        const std::string& kind,
                        uint32_t nodeId,
                        uint32_t spi,
                        const std::string& detail)
{
    // Every decision of the key manager is an event: log them where they are made.
    NS_LOG_INFO(connection << ": " << kind << " node " << nodeId << " SPI 0x" << std::hex << spi
                           << std::dec << (detail.empty() ? "" : " (" + detail + ")"));
    m_events.push_back({Simulator::Now(), connection, kind, nodeId, spi, detail});
}

bool
IpsecKeyManager::AddConnection(const IpsecConnectionConfig& config, std::string* error)
{
    Ptr<XfrmStack> left = StackOf(config.left.node, error);
    Ptr<XfrmStack> right = left ? StackOf(config.right.node, error) : nullptr;
    if (!right)
    {
        return false;
    }
    if (config.keyBits != 128 && config.keyBits != 256)
    {
        if (error)
        {
            *error = "keyBits: " + std::to_string(config.keyBits) + " (use 128 or 256)";
        }
        return false;
    }
    if ((!config.left.seenAs.IsAny() || !config.right.seenAs.IsAny()) && !config.udpEncap)
    {
        if (error)
        {
            *error = "udpEncap: false, but a peer is behind a NAT (seenAs set): plain ESP does "
                     "not cross a NAT";
        }
        return false;
    }
    Watch(left);
    Watch(right);
    if (config.udpEncap)
    {
        left->EnableUdpEncap(kIkeNatTPort);
        right->EnableUdpEncap(kIkeNatTPort);
    }
    Connection c;
    c.config = config;
    c.reqid = m_connections.size() + 1;
    m_connections.push_back(c);
    const size_t index = m_connections.size() - 1;
    if (!InstallPolicies(m_connections[index], error))
    {
        return false;
    }
    m_connections[index].children.push_back(NewChild(config, 0));
    return InstallChildHalf(index, 0, false, error) && InstallChildHalf(index, 0, true, error);
}

IpsecKeyManager::ChildSa
IpsecKeyManager::NewChild(const IpsecConnectionConfig& config, uint32_t generation)
{
    ChildSa child;
    child.generation = generation;
    child.spiLeftToRight = NewSpi();
    child.spiRightToLeft = NewSpi();
    child.keysLeftToRight = NewAlgorithm(config);
    child.keysRightToLeft = NewAlgorithm(config);
    return child;
}

bool
IpsecKeyManager::InstallPolicies(Connection& c, std::string* error)
{
    const IpsecConnectionConfig& cfg = c.config;
    for (const auto* self : {&cfg.left, &cfg.right})
    {
        const IpsecPeerConfig& local = *self;
        const IpsecPeerConfig& remote = self == &cfg.left ? cfg.right : cfg.left;
        Ptr<XfrmStack> stack = StackOf(local.node, error);
        auto policy = [&](XfrmDir dir, bool offloadable) {
            XfrmPolicyConfig p;
            p.dir = dir;
            p.priority = cfg.policyPriority;
            const bool out = dir == XfrmDir::Out;
            p.sel = XfrmSelector::Subnets(out ? local.subnet : remote.subnet,
                                          out ? local.subnetPrefix : remote.subnetPrefix,
                                          out ? remote.subnet : local.subnet,
                                          out ? remote.subnetPrefix : local.subnetPrefix);
            p.tmpl.mode = cfg.mode;
            p.tmpl.reqid = c.reqid;
            p.tmpl.saddr = out ? local.address : remote.AddressFor(false);
            p.tmpl.daddr = out ? remote.AddressFor(false) : local.address;
            if (offloadable && local.offload == XfrmOffloadType::Packet)
            {
                p.offloadType = XfrmOffloadType::Packet;
                p.offloadDev = local.device;
            }
            std::string why;
            if (!stack->AddPolicy(p, &why))
            {
                if (error)
                {
                    *error = cfg.name + ": policy " + XfrmDirName(dir) + " on node " +
                             std::to_string(local.node->GetId()) + ": " + why;
                }
                return false;
            }
            return true;
        };
        if (!policy(XfrmDir::Out, true) || !policy(XfrmDir::In, true))
        {
            return false;
        }
        if (cfg.mode == XfrmMode::Tunnel && !policy(XfrmDir::Fwd, false))
        {
            return false;
        }
    }
    return true;
}

size_t
IpsecKeyManager::InstallSa(Connection& c,
                           uint32_t generation,
                           const IpsecPeerConfig& from,
                           const IpsecPeerConfig& to,
                           bool outbound,
                           uint32_t spi,
                           const EspAlgorithm& algorithm,
                           std::string* error)
{
    const IpsecConnectionConfig& cfg = c.config;
    const IpsecPeerConfig& holder = outbound ? from : to;
    XfrmStateConfig s;
    s.saddr = from.AddressFor(outbound);
    s.daddr = to.AddressFor(!outbound);
    s.spi = spi;
    s.mode = cfg.mode;
    s.reqid = c.reqid;
    s.sel = XfrmSelector::Subnets(from.subnet, from.subnetPrefix, to.subnet, to.subnetPrefix);
    s.algorithm = algorithm;
    s.replayWindow = cfg.replayWindow;
    s.esn = cfg.esn;
    s.lifetime = cfg.lifetime;
    if (cfg.udpEncap)
    {
        s.encap.type = XfrmEncapType::EspInUdp;
        s.encap.sport = kIkeNatTPort;
        s.encap.dport = kIkeNatTPort;
        // NAT-OA: the peer's own address, where the NAT put another in front of it.
        s.encap.oa = outbound ? to.address : from.address;
    }
    if (holder.offload != XfrmOffloadType::None)
    {
        s.offloadDev = holder.device;
        s.offloadType = holder.offload;
        s.offloadDir = outbound ? XfrmDir::Out : XfrmDir::In;
    }
    Ptr<XfrmStack> stack = StackOf(holder.node, error);
    std::string why;
    Ptr<XfrmState> x = stack ? stack->AddState(s, &why) : nullptr;
    if (!x && stack && s.offloadType == XfrmOffloadType::Crypto)
    {
        // strongSwan's hw_offload=auto: an SA the kernel will not offload (one in UDP, say)
        // is installed again without offload.
        Record(cfg.name, "offload-refused", holder.node->GetId(), spi, why);
        s.offloadType = XfrmOffloadType::None;
        s.offloadDev = nullptr;
        x = stack->AddState(s, &why);
    }
    if (!x)
    {
        if (error && stack)
        {
            std::ostringstream os;
            os << cfg.name << ": SA 0x" << std::hex << spi << std::dec << " on node "
               << holder.node->GetId() << ": " << why;
            *error = os.str();
        }
        return SIZE_MAX;
    }
    IpsecSaRecord r;
    r.connection = cfg.name;
    r.generation = generation;
    r.nodeId = holder.node->GetId();
    r.direction = outbound ? "out" : "in";
    r.saddr = s.saddr;
    r.daddr = s.daddr;
    r.spi = spi;
    r.mode = s.mode;
    r.algorithm = algorithm;
    r.esn = s.esn;
    r.offloadRequested = holder.offload;
    r.offloadActual = x->GetOffload().ops ? x->GetOffload().type : XfrmOffloadType::None;
    r.installed = Simulator::Now();
    r.state = x;
    r.stack = stack;
    m_records.push_back(r);
    Record(cfg.name,
           "install",
           r.nodeId,
           spi,
           std::string(r.direction) + " offload=" + XfrmOffloadTypeName(r.offloadActual));
    return m_records.size() - 1;
}

bool
IpsecKeyManager::InstallChildHalf(size_t connection,
                                  size_t childIndex,
                                  bool outbound,
                                  std::string* error)
{
    Connection& c = m_connections[connection];
    ChildSa& child = c.children[childIndex];
    const IpsecConnectionConfig& cfg = c.config;
    const size_t a = InstallSa(c,
                               child.generation,
                               cfg.left,
                               cfg.right,
                               outbound,
                               child.spiLeftToRight,
                               child.keysLeftToRight,
                               error);
    if (a == SIZE_MAX)
    {
        return false;
    }
    const size_t b = InstallSa(c,
                               child.generation,
                               cfg.right,
                               cfg.left,
                               outbound,
                               child.spiRightToLeft,
                               child.keysRightToLeft,
                               error);
    if (b == SIZE_MAX)
    {
        return false;
    }
    for (size_t r : {a, b})
    {
        (outbound ? child.outbound : child.inbound).push_back(r);
        m_stateOwner[PeekPointer(m_records[r].state)] = {connection, childIndex};
    }
    return true;
}

void
IpsecKeyManager::OnExpire(Ptr<XfrmState> x, bool hard)
{
    auto it = m_stateOwner.find(PeekPointer(x));
    if (it == m_stateOwner.end())
    {
        return; // not ours
    }
    const auto [connection, child] = it->second;
    const std::string& name = m_connections[connection].config.name;
    uint32_t nodeId = 0;
    for (auto& r : m_records)
    {
        if (r.state == x)
        {
            nodeId = r.nodeId;
            r.alive = r.alive && !hard; // the stack deletes a hard-expired state itself
        }
    }
    Record(name,
           hard ? "hard-expire" : "soft-expire",
           nodeId,
           x->GetSpi(),
           "packets=" + std::to_string(x->GetCurrent().packets) +
               " bytes=" + std::to_string(x->GetCurrent().bytes));
    ChildSa& c = m_connections[connection].children[child];
    if (!c.rekeying && !c.superseded)
    {
        // Both soft and hard expire start a rekey if none is running (hard means we are late).
        c.rekeying = true;
        StartRekey(connection, child);
    }
}

void
IpsecKeyManager::DeleteRecordState(size_t record)
{
    IpsecSaRecord& r = m_records[record];
    if (!r.alive)
    {
        return;
    }
    // The stack may already have deleted it on hard expire; DeleteState then reports false.
    if (r.stack->FindState(r.daddr, r.spi) == r.state)
    {
        r.stack->DeleteState(r.daddr, r.spi);
        Record(r.connection, "delete", r.nodeId, r.spi, r.direction);
    }
    m_stateOwner.erase(PeekPointer(r.state));
    r.alive = false;
}

void
IpsecKeyManager::StartRekey(size_t connection, size_t oldChild)
{
    Connection& c = m_connections[connection];
    c.children.push_back(NewChild(c.config, c.children[oldChild].generation + 1));
    const size_t newChild = c.children.size() - 1;
    std::string error;
    // Make before break: the new inbound SAs exist before anyone sends on them.
    if (!InstallChildHalf(connection, newChild, false, &error))
    {
        Record(c.config.name, "rekey-failed", 0, 0, error);
        return;
    }
    Simulator::Schedule(c.config.rekeyDelay, [this, connection, oldChild, newChild]() {
        Connection& conn = m_connections[connection];
        std::string why;
        if (!InstallChildHalf(connection, newChild, true, &why))
        {
            Record(conn.config.name, "rekey-failed", 0, 0, why);
            return;
        }
        ChildSa& old = conn.children[oldChild];
        old.superseded = true;
        const ChildSa& fresh = conn.children[newChild];
        std::ostringstream os;
        os << std::hex << "0x" << old.spiLeftToRight << "/0x" << old.spiRightToLeft << " -> 0x"
           << fresh.spiLeftToRight << "/0x" << fresh.spiRightToLeft;
        Record(conn.config.name, "rekey", 0, fresh.spiLeftToRight, os.str());
        ++m_rekeys;
        for (size_t r : old.outbound)
        {
            DeleteRecordState(r);
        }
        const std::vector<size_t> inbound = old.inbound;
        Simulator::Schedule(conn.config.oldInboundGrace, [this, inbound]() {
            for (size_t r : inbound)
            {
                DeleteRecordState(r);
            }
        });
    });
}

const std::vector<IpsecSaRecord>&
IpsecKeyManager::GetSaRecords() const
{
    return m_records;
}

const std::vector<IpsecKmEvent>&
IpsecKeyManager::GetEvents() const
{
    return m_events;
}

uint32_t
IpsecKeyManager::GetRekeyCount() const
{
    return m_rekeys;
}

} // namespace ns3
