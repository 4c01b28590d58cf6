#include "suite-traffic.h"

#include "ns3/tcp-socket-factory.h"

#include <algorithm>

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

std::vector<Bytes>
Payloads(uint32_t count, uint32_t firstIndex)
{
    std::vector<Bytes> payloads;
    for (uint32_t i = 0; i < count; ++i)
    {
        payloads.push_back(DatagramPayload(firstIndex + i, 40 + (37 * i) % 400));
    }
    return payloads;
}

uint32_t
Delivered(const UdpSink& sink, const std::vector<Bytes>& sent)
{
    uint32_t n = 0;
    for (const Bytes& p : sent)
    {
        n += std::count(sink.received.begin(), sink.received.end(), p) > 0 ? 1 : 0;
    }
    return n;
}

testing::AssertionResult
SameDatagrams(const std::vector<Bytes>& got, const std::vector<Bytes>& sent)
{
    size_t i = 0;
    while (i < got.size() && i < sent.size() && got[i] == sent[i])
    {
        ++i;
    }
    if (i == got.size() && i == sent.size())
    {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << got.size() << " datagrams delivered of " << sent.size()
                                       << " sent; the first difference is datagram " << i;
}

testing::AssertionResult
SameStream(const Bytes& got, const Bytes& sent)
{
    const auto diff = std::mismatch(got.begin(), got.end(), sent.begin(), sent.end());
    if (diff.first == got.end() && diff.second == sent.end())
    {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure()
           << got.size() << " bytes received of " << sent.size()
           << " sent; the first difference is byte " << diff.first - got.begin();
}

void
RunTo(Time until)
{
    Simulator::Stop(until - Simulator::Now());
    Simulator::Run();
}

} // namespace conformance
