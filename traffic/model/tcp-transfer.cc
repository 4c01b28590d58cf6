#include "tcp-transfer.h"

#include "ns3/callback.h"
#include "ns3/inet-socket-address.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/uinteger.h"

#include <algorithm>

namespace ns3
{

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
StartTcp(Ptr<Node> from,
         Ptr<Node> to,
         Ipv4Address toAddress,
         uint32_t bytes,
         Time at,
         uint32_t senderSegment)
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
    x->listener->SetAcceptCallback(
        MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
        Callback<void, Ptr<Socket>, const Address&>([raw](Ptr<Socket> s, const Address&) {
            raw->accepted = s;
            s->SetRecvCallback(Callback<void, Ptr<Socket>>([raw](Ptr<Socket> socket) {
                Ptr<Packet> p;
                while ((p = socket->Recv()) && p->GetSize() > 0)
                {
                    const uint32_t n = p->GetSize();
                    raw->received.resize(raw->received.size() + n);
                    p->CopyData(raw->received.data() + raw->received.size() - n, n);
                }
            }));
        }));
    x->client = Socket::CreateSocket(from, TcpSocketFactory::GetTypeId());
    x->client->SetAttribute("SegmentSize", UintegerValue(senderSegment));
    x->client->SetConnectCallback(Callback<void, Ptr<Socket>>([raw](Ptr<Socket>) { raw->Push(); }),
                                  MakeNullCallback<void, Ptr<Socket>>());
    x->client->SetSendCallback(
        Callback<void, Ptr<Socket>, uint32_t>([raw](Ptr<Socket>, uint32_t) { raw->Push(); }));
    Simulator::Schedule(at, [raw, toAddress]() {
        raw->client->Bind();
        raw->client->Connect(InetSocketAddress(toAddress, kTcpPort));
    });
    return x;
}

} // namespace ns3
