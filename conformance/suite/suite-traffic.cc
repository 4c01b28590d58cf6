#include "suite-traffic.h"

#include "ns3/tcp-socket-factory.h"

namespace conformance
{

using namespace ns3;
using namespace offloadtest;

TcpTransfer::~TcpTransfer()
{
    // The sockets outlive this object until Simulator::Destroy: silence them first.
    client->SetSendCallback(MakeNullCallback<void, Ptr<Socket>, uint32_t>());
    client->SetConnectCallback(MakeNullCallback<void, Ptr<Socket>>(),
                               MakeNullCallback<void, Ptr<Socket>>());
    listener->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                MakeNullCallback<void, Ptr<Socket>, const Address&>());
    if (accepted)
    {
        accepted->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
    }
}

void
TcpTransfer::Push()
{
    while (offset < sent.size())
    {
        const uint32_t n = std::min<uint32_t>(client->GetTxAvailable(), sent.size() - offset);
        const int done = n == 0 ? 0 : client->Send(sent.data() + offset, n, 0);
        if (done <= 0)
        {
            return;
        }
        offset += done;
    }
}

std::unique_ptr<TcpTransfer>
StartTcp(Ptr<Node> from, Ptr<Node> to, Ipv4Address toAddress, uint32_t bytes, Time at)
{
    auto x = std::make_unique<TcpTransfer>();
    for (uint32_t i = 0; i < bytes; ++i)
    {
        x->sent.push_back(uint8_t(i * 13 + i / 251));
    }
    TcpTransfer* raw = x.get();
    x->listener = Socket::CreateSocket(to, TcpSocketFactory::GetTypeId());
    x->listener->SetAttribute("SegmentSize", UintegerValue(kTcpSegment));
    x->listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), kTcpPort));
    x->listener->Listen();
    x->listener->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                   Callback<void, Ptr<Socket>, const Address&>(
                                       [raw](Ptr<Socket> s, const Address&)
                                       {
                                           raw->accepted = s;
                                           s->SetRecvCallback(Callback<void, Ptr<Socket>>(
                                               [raw](Ptr<Socket> socket)
                                               {
                                                   Ptr<Packet> p;
                                                   while ((p = socket->Recv()) && p->GetSize() > 0)
                                                   {
                                                       const Bytes b = PacketBytes(p);
                                                       raw->received.insert(raw->received.end(),
                                                                            b.begin(), b.end());
                                                   }
                                               }));
                                       }));
    x->client = Socket::CreateSocket(from, TcpSocketFactory::GetTypeId());
    x->client->SetAttribute("SegmentSize", UintegerValue(kTcpSegment));
    x->client->SetConnectCallback(Callback<void, Ptr<Socket>>([raw](Ptr<Socket>) { raw->Push(); }),
                                  MakeNullCallback<void, Ptr<Socket>>());
    x->client->SetSendCallback(
        Callback<void, Ptr<Socket>, uint32_t>([raw](Ptr<Socket>, uint32_t) { raw->Push(); }));
    Simulator::Schedule(at,
                        [raw, toAddress]()
                        {
                            raw->client->Bind();
                            raw->client->Connect(InetSocketAddress(toAddress, kTcpPort));
                        });
    return x;
}

std::vector<Bytes>
Datagrams(uint32_t count, uint32_t salt)
{
    std::vector<Bytes> all;
    for (uint32_t i = 0; i < count; ++i)
    {
        all.push_back(DatagramPayload(salt + i, (i * 37 + salt) % 1301));
    }
    return all;
}

} // namespace conformance
