#include "udp-endpoints.h"

#include "ns3/callback.h"
#include "ns3/inet-socket-address.h"
#include "ns3/inet6-socket-address.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/udp-socket-factory.h"

#include <algorithm>

namespace ns3
{

namespace
{
std::shared_ptr<UdpSink>
MakeUdpSink(Ptr<Node> node, const Address& local)
{
    auto sink = std::make_shared<UdpSink>();
    sink->socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
    sink->socket->Bind(local);
    UdpSink* raw = sink.get();
    sink->socket->SetRecvCallback(Callback<void, Ptr<Socket>>([raw](Ptr<Socket> s) {
        Address from;
        while (Ptr<Packet> p = s->RecvFrom(from))
        {
            std::vector<uint8_t> b(p->GetSize());
            if (!b.empty())
            {
                p->CopyData(b.data(), b.size());
            }
            raw->received.push_back(std::move(b));
            raw->receivedAt.push_back(Simulator::Now());
        }
    }));
    return sink;
}
} // namespace

std::shared_ptr<UdpSink>
InstallUdpSink(Ptr<Node> node, uint16_t port)
{
    return MakeUdpSink(node, InetSocketAddress(Ipv4Address::GetAny(), port));
}

std::shared_ptr<UdpSink>
InstallUdpSink6(Ptr<Node> node, uint16_t port)
{
    return MakeUdpSink(node, Inet6SocketAddress(Ipv6Address::GetAny(), port));
}

std::shared_ptr<UdpSender>
InstallUdpSender(Ptr<Node> node, Ipv4Address dst, uint16_t port)
{
    return InstallUdpSenderFrom(node, 0, dst, port);
}

std::shared_ptr<UdpSender>
InstallUdpSenderFrom(Ptr<Node> node, uint16_t srcPort, Ipv4Address dst, uint16_t port)
{
    auto sender = std::make_shared<UdpSender>();
    sender->socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
    sender->socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), srcPort));
    sender->socket->Connect(InetSocketAddress(dst, port));
    UdpSender* raw = sender.get();
    sender->socket->SetAttribute(
        "IcmpCallback",
        CallbackValue(Callback<void, Ipv4Address, uint8_t, uint8_t, uint8_t, uint32_t>(
            [raw](Ipv4Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info) {
                raw->icmp.push_back(IcmpRecord{source, Ipv6Address(), type, code, info});
            })));
    return sender;
}

std::shared_ptr<UdpSender>
InstallUdpSender(Ptr<Node> node, Ipv6Address dst, uint16_t port)
{
    auto sender = std::make_shared<UdpSender>();
    sender->socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
    sender->socket->Bind6();
    sender->socket->Connect(Inet6SocketAddress(dst, port));
    UdpSender* raw = sender.get();
    sender->socket->SetAttribute(
        "IcmpCallback6",
        CallbackValue(Callback<void, Ipv6Address, uint8_t, uint8_t, uint8_t, uint32_t>(
            [raw](Ipv6Address source, uint8_t ttl, uint8_t type, uint8_t code, uint32_t info) {
                raw->icmp.push_back(IcmpRecord{Ipv4Address(), source, type, code, info});
            })));
    return sender;
}

void
ScheduleDatagram(std::shared_ptr<UdpSender> sender, Time at, const std::vector<uint8_t>& payload)
{
    Simulator::Schedule(at, [sender, payload]() {
        Ptr<Packet> p =
            payload.empty() ? Create<Packet>() : Create<Packet>(payload.data(), payload.size());
        if (sender->socket->Send(p) < 0)
        {
            ++sender->sendFailures;
        }
    });
}

Time
ScheduleDatagrams(std::shared_ptr<UdpSender> sender,
                  const std::vector<std::vector<uint8_t>>& payloads,
                  Time start,
                  Time gap)
{
    Time at = start;
    for (const auto& p : payloads)
    {
        ScheduleDatagram(sender, at, p);
        at += gap;
    }
    return at;
}

uint32_t
Delivered(const UdpSink& sink, const std::vector<std::vector<uint8_t>>& sent)
{
    uint32_t n = 0;
    for (const auto& p : sent)
    {
        n += std::count(sink.received.begin(), sink.received.end(), p) > 0 ? 1 : 0;
    }
    return n;
}

} // namespace ns3
