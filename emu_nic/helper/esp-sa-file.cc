#include "esp-sa-file.h"

#include <fstream>
#include <iomanip>
#include <sstream>

namespace ns3
{

namespace
{
std::string
Hex(const std::vector<uint8_t>& bytes)
{
    std::ostringstream os;
    os << "0x" << std::hex << std::setfill('0');
    for (uint8_t b : bytes)
    {
        os << std::setw(2) << unsigned(b);
    }
    return os.str();
}
} // namespace

void
EspSaFile::Add(Ipv4Address saddr, Ipv4Address daddr, uint32_t spi, const EspAlgorithm& a)
{
    const bool gcm = a.suite == EspAlgorithm::Suite::AesGcm;
    std::vector<uint8_t> key = a.encKey;
    key.insert(key.end(), a.salt.begin(), a.salt.end()); // Wireshark wants key || salt for GCM
    std::ostringstream line;
    line << "\"IPv4\",\"" << saddr << "\",\"" << daddr << "\",\"0x" << std::hex << std::setw(8)
         << std::setfill('0') << spi << std::dec << "\",\""
         << (gcm ? "AES-GCM with 16 octet ICV [RFC4106]" : "AES-CBC [RFC3602]") << "\",\""
         << Hex(key) << "\",\"" << (gcm ? "NULL" : "HMAC-SHA-256-128 [RFC4868]") << "\",\""
         << (gcm ? "" : Hex(a.authKey)) << "\"\n";
    if (m_lines.find(line.str()) == std::string::npos)
    {
        m_lines += line.str();
    }
}

std::string
EspSaFile::ToString() const
{
    return "# Wireshark esp_sa (ESP SAs) table written by offloadlab.\n"
           "# These are throw-away TEST KEYS of a simulation, not secrets of any real system.\n"
           "# Use: copy to ~/.config/wireshark/esp_sa, then\n"
           "#   tshark -o esp.enable_encryption_decode:TRUE "
           "-o esp.enable_authentication_check:TRUE -r FILE.pcap\n" +
           m_lines;
}

bool
EspSaFile::Write(const std::string& path) const
{
    std::ofstream out(path);
    out << ToString();
    return bool(out);
}

} // namespace ns3
