#include "esp-sa-file.h"

#include <fstream>
#include <iomanip>
#include <sstream>

namespace offloadlab
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
EspSaFile::Add(const EspSaEntry& sa)
{
    std::ostringstream line;
    // Wireshark's protocol field: "IPv4" or "IPv6", as the addresses are.
    const bool v6 = sa.saddr.find(':') != std::string::npos;
    line << "\"" << (v6 ? "IPv6" : "IPv4") << "\",\"" << sa.saddr << "\",\"" << sa.daddr
         << "\",\"0x" << std::hex << std::setw(8) << std::setfill('0') << sa.spi << std::dec
         << "\",\"" << (sa.gcm ? "AES-GCM with 16 octet ICV [RFC4106]" : "AES-CBC [RFC3602]")
         << "\",\"" << Hex(sa.encKey) << "\",\"" << (sa.gcm ? "NULL" : "HMAC-SHA-256-128 [RFC4868]")
         << "\",\"" << (sa.gcm ? "" : Hex(sa.authKey)) << "\"\n";
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

} // namespace offloadlab
