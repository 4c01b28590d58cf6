#include "certify-report.h"

#include "certificate-html.h"
#include "json-fields.h"
#include "text-file.h"

#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

namespace offloadlab
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
using Json = nlohmann::ordered_json;

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

/// A test of the document: its result, message, duration and evidence.
struct Test
{
    std::string name; //!< "Check/variant": the full name without the requirement's suite
    std::string result;
    std::string message;
    double seconds{0};
    const Json* properties{nullptr};
    const Json* files{nullptr};

    explicit Test(const Json& t)
        : result(ValueOr(t, "result", "error")),
          message(ValueOr(t, "message", "")),
          seconds(ValueOr(t, "duration", 0.0))
    {
        const std::string full = ValueOr(t, "name", "");
        name = full.substr(full.find('.') + 1);
        if (t.contains("evidence"))
        {
            properties = &Field(Field(t, "evidence"), "properties");
            files = &Field(Field(t, "evidence"), "files");
        }
    }

    bool HasEvidence() const
    {
        return (properties && !properties->empty()) || (files && !files->empty());
    }
};

struct Counts
{
    size_t tests{0};
    size_t failures{0};
    size_t errors{0};
    size_t skipped{0};
    double seconds{0};

    void Add(const Test& t)
    {
        ++tests;
        failures += t.result == "fail";
        errors += t.result == "error";
        skipped += t.result == "skip" || t.result == "untested";
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
WriteProperty(std::ostream& os,
              const std::string& indent,
              const std::string& name,
              const std::string& value)
{
    os << indent << "<property name=\"" << XmlEscape(name) << "\" value=\"" << XmlEscape(value)
       << "\"/>\n";
}

void
WriteTestCase(std::ostream& os, const std::string& classname, const Test& t)
{
    os << "    <testcase classname=\"" << XmlEscape(classname) << "\" name=\"" << XmlEscape(t.name)
       << "\" time=\"" << Seconds(t.seconds) << "\"";
    // An advisory check never fails a device: advisory-ok is a pass, and a finding is a pass
    // that carries what it found.
    const bool finding = t.result == "advisory-finding";
    const bool passed = t.result == "pass" || t.result == "advisory-ok" || finding;
    if (passed && !finding && !t.HasEvidence())
    {
        os << "/>\n";
        return;
    }
    os << ">\n";
    if (t.result == "skip" || t.result == "untested")
    {
        // untested: an interrupted run never reached it.
        os << "      <skipped message=\"" << XmlEscape(t.message) << "\"/>\n";
    }
    else if (t.result == "fail")
    {
        // The sentence that explains it; the whole message, location included, is the body.
        os << "      <failure message=\"" << XmlEscape(FailureReason(t.message))
           << "\" type=\"failure\">" << XmlEscape(t.message) << "</failure>\n";
    }
    else if (!passed)
    {
        os << "      <error message=\"" << XmlEscape(FirstLine(t.message)) << "\" type=\"device\">"
           << XmlEscape(t.message) << "</error>\n";
    }
    if (finding || t.HasEvidence())
    {
        os << "      <properties>\n";
        WriteProperty(os, "        ", "result", t.result);
        if (finding)
        {
            WriteProperty(os, "        ", "advisory_finding", t.message);
        }
        if (t.properties)
        {
            for (const auto& [key, value] : t.properties->items())
            {
                WriteProperty(os, "        ", key, value.get<std::string>());
            }
        }
        if (t.files)
        {
            for (const auto& file : *t.files)
            {
                WriteProperty(os, "        ", "evidence_file", file.get<std::string>());
            }
        }
        os << "      </properties>\n";
    }
    if (finding)
    {
        os << "      <system-out>" << XmlEscape("advisory finding: " + t.message)
           << "</system-out>\n";
    }
    os << "    </testcase>\n";
}

bool
WriteFile(const std::string& path, const std::string& text, std::string* error)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
    {
        *error = "cannot write " + path;
        return false;
    }
    return true;
}
} // namespace

std::string
JunitXml(const Json& certify)
{
    std::ostringstream body;
    Counts total;
    const std::string loadError = ValueOr(certify, "error", "");
    if (!loadError.empty())
    {
        const Test load(
            Json{{"name", "device.device-load"}, {"result", "error"}, {"message", loadError}});
        Counts c;
        c.Add(load);
        total.Add(load);
        body << "  <testsuite name=\"device\"" << CountAttributes(c) << ">\n";
        WriteTestCase(body, "device", load);
        body << "  </testsuite>\n";
    }
    for (const auto& r : Field(certify, "requirements"))
    {
        const std::string id = ValueOr(r, "id", "");
        std::vector<Test> tests;
        Counts c;
        for (const auto& t : Field(r, "tests"))
        {
            tests.emplace_back(t);
            c.Add(tests.back());
            total.Add(tests.back());
        }
        body << "  <testsuite name=\"" << XmlEscape(id) << "\"" << CountAttributes(c) << ">\n";
        body << "    <properties>\n";
        WriteProperty(body, "      ", "text", ValueOr(r, "text", ""));
        // Modes in name order, whatever order the catalog gives them.
        std::map<std::string, std::string> byMode;
        for (const auto& [mode, result] : Field(r, "results").items())
        {
            byMode[mode] = result.get<std::string>();
        }
        std::string modes;
        for (const auto& [mode, result] : byMode)
        {
            modes += (modes.empty() ? "" : ",") + mode + "=" + result;
        }
        WriteProperty(body, "      ", "modes", modes);
        WriteProperty(body, "      ", "result", ValueOr(r, "result", ""));
        body << "    </properties>\n";
        for (const auto& t : tests)
        {
            WriteTestCase(body, id, t);
        }
        body << "  </testsuite>\n";
    }
    // A partial or interrupted run says so in the name every CI page shows.
    std::string name = "offloadlab certify " + ValueOr(Field(certify, "device"), "spec", "");
    const std::string status = ValueOr(certify, "status", "");
    if (status == "interrupted")
    {
        name += " (interrupted: " + ValueOr(certify, "interrupted", "") + ")";
    }
    else if (status.size() > 8 && status.compare(status.size() - 8, 8, "-partial") == 0)
    {
        name += " (partial run: --only)";
    }
    std::ostringstream os;
    os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<testsuites name=\"" << XmlEscape(name) << "\"" << CountAttributes(total)
       << " timestamp=\"" << XmlEscape(ValueOr(certify, "started", "")) << "\">\n";
    // Where the run came from: version, commit, catalog and device hashes, host, command.
    os << "  <properties>\n";
    WriteProperty(os, "    ", "status", status);
    for (const auto& [key, value] : Field(certify, "provenance").items())
    {
        WriteProperty(os, "    ", key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    os << "  </properties>\n" << body.str() << "</testsuites>\n";
    return os.str();
}

bool
WriteCertifyReports(const Json& certify, const std::string& dir, std::string* error)
{
    // Messages come from devices and tests: never let one byte stop the report.
    return WriteFile(dir + "/junit.xml", JunitXml(certify), error) &&
           WriteFile(dir + "/certify.json",
                     certify.dump(2, ' ', false, Json::error_handler_t::replace) + "\n",
                     error) &&
           WriteFile(dir + "/certificate.html", CertificateHtml(certify), error);
}

} // namespace offloadlab
