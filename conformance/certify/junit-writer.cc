#include "junit-writer.h"

#include "text-file.h"

#include <fstream>
#include <iomanip>
#include <sstream>

namespace ns3
{

std::string
XmlEscape(const std::string& text)
{
    const std::string valid = SanitizeUtf8(text);
    std::string out;
    out.reserve(valid.size());
    for (char ch : valid)
    {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch)
        {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            case '\n':
                out += "&#10;";
                break;
            case '\r':
                out += "&#13;";
                break;
            case '\t':
                out += "&#9;";
                break;
            default:
                // XML 1.0 has no way to carry the other C0 controls, not even as references.
                out += c < 0x20 || c == 0x7f ? std::string("\xef\xbf\xbd") : std::string(1, ch);
        }
    }
    return out;
}

namespace
{
std::string
Seconds(double s)
{
    std::ostringstream os;
    os << std::fixed << std::setprecision(3) << s;
    return os.str();
}

std::string
FirstLine(const std::string& text)
{
    const size_t start = text.find_first_not_of("\n ");
    if (start == std::string::npos)
    {
        return "";
    }
    return text.substr(start, text.find('\n', start) - start);
}

struct Counts
{
    size_t tests{0};
    size_t failures{0};
    size_t errors{0};
    size_t skipped{0};
    double seconds{0};

    void Add(const TestCaseResult& t)
    {
        ++tests;
        failures += t.outcome == Outcome::Fail;
        errors += t.outcome == Outcome::Error;
        skipped += t.outcome == Outcome::Skip;
        seconds += t.seconds;
    }
};

std::string
CountAttributes(const Counts& c)
{
    return " tests=\"" + std::to_string(c.tests) + "\" failures=\"" + std::to_string(c.failures) +
           "\" errors=\"" + std::to_string(c.errors) + "\" skipped=\"" + std::to_string(c.skipped) +
           "\" time=\"" + Seconds(c.seconds) + "\"";
}

void
WriteProperty(std::ostream& os, const std::string& indent, const std::string& name,
              const std::string& value)
{
    os << indent << "<property name=\"" << XmlEscape(name) << "\" value=\"" << XmlEscape(value)
       << "\"/>\n";
}

void
WriteTestCase(std::ostream& os, const std::string& classname, const TestCaseResult& t)
{
    os << "    <testcase classname=\"" << XmlEscape(classname) << "\" name=\"" << XmlEscape(t.name)
       << "\" time=\"" << Seconds(t.seconds) << "\"";
    if (t.outcome == Outcome::Pass && t.properties.empty() && t.files.empty())
    {
        os << "/>\n";
        return;
    }
    os << ">\n";
    switch (t.outcome)
    {
        case Outcome::Skip:
            os << "      <skipped message=\"" << XmlEscape(t.message) << "\"/>\n";
            break;
        case Outcome::Fail:
            os << "      <failure message=\"" << XmlEscape(FirstLine(t.message))
               << "\" type=\"failure\">" << XmlEscape(t.message) << "</failure>\n";
            break;
        case Outcome::Error:
        case Outcome::Untested:
            os << "      <error message=\"" << XmlEscape(FirstLine(t.message))
               << "\" type=\"device\">" << XmlEscape(t.message) << "</error>\n";
            break;
        case Outcome::Pass:
            break;
    }
    if (!t.properties.empty() || !t.files.empty())
    {
        os << "      <properties>\n";
        for (const auto& [key, value] : t.properties)
        {
            WriteProperty(os, "        ", key, value);
        }
        for (const auto& file : t.files)
        {
            WriteProperty(os, "        ", "evidence_file", file);
        }
        os << "      </properties>\n";
    }
    os << "    </testcase>\n";
}
} // namespace

std::string
JunitXml(const CertifyReport& report)
{
    std::ostringstream body;
    Counts total;
    if (!report.error.empty())
    {
        TestCaseResult load;
        load.name = "device-load";
        load.outcome = Outcome::Error;
        load.message = report.error;
        Counts c;
        c.Add(load);
        total.Add(load);
        body << "  <testsuite name=\"device\"" << CountAttributes(c) << ">\n";
        WriteTestCase(body, "device", load);
        body << "  </testsuite>\n";
    }
    for (const auto& r : report.requirements)
    {
        Counts c;
        for (const auto& t : r.tests)
        {
            c.Add(t);
            total.Add(t);
        }
        body << "  <testsuite name=\"" << XmlEscape(r.requirement.id) << "\"" << CountAttributes(c)
             << ">\n";
        body << "    <properties>\n";
        WriteProperty(body, "      ", "text", r.requirement.text);
        std::string modes;
        for (const auto& [mode, outcome] : r.modes)
        {
            modes += (modes.empty() ? "" : ",") + mode + "=" + OutcomeName(outcome);
        }
        WriteProperty(body, "      ", "modes", modes);
        WriteProperty(body, "      ", "result", OutcomeName(r.overall));
        body << "    </properties>\n";
        for (const auto& t : r.tests)
        {
            WriteTestCase(body, r.requirement.id, t);
        }
        body << "  </testsuite>\n";
    }
    std::ostringstream os;
    os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<testsuites name=\"" << XmlEscape("offloadlab certify " + report.deviceSpec) << "\""
       << CountAttributes(total) << " timestamp=\"" << XmlEscape(report.started) << "\">\n"
       << body.str() << "</testsuites>\n";
    return os.str();
}

bool
WriteJunit(const CertifyReport& report, const std::string& path, std::string* error)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << JunitXml(report);
    out.close();
    if (!out)
    {
        *error = "cannot write " + path;
        return false;
    }
    return true;
}

} // namespace ns3
