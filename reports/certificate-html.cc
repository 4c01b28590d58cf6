#include "certificate-html.h"

#include "certify-report.h"
#include "json-fields.h"

#include <sstream>
#include <vector>

namespace offloadlab
{

namespace
{
using Json = nlohmann::ordered_json;

std::string
Esc(const std::string& text)
{
    return XmlEscape(text);
}

/// Any value of the document as text: strings as they are, lists joined, booleans as yes/no.
std::string
TextOf(const Json& value)
{
    if (value.is_null())
    {
        return "";
    }
    if (value.is_string())
    {
        return value.get<std::string>();
    }
    if (value.is_boolean())
    {
        return value.get<bool>() ? "yes" : "no";
    }
    if (value.is_array())
    {
        std::string out;
        for (const auto& item : value)
        {
            out += (out.empty() ? "" : ", ") + TextOf(item);
        }
        return out;
    }
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool
StartsWith(const std::string& s, const std::string& prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

/// The verdict as the banner shows it, and the CSS class that colours it.
struct Verdict
{
    std::string text;
    std::string cls;
};

Verdict
VerdictOf(const Json& certify)
{
    const std::string status = ValueOr(certify, "status", "");
    const std::string interrupted = ValueOr(certify, "interrupted", "");
    // A run of some requirements is never a certificate: the banner says so before the result.
    if (status == "interrupted" || !interrupted.empty())
    {
        return {"INTERRUPTED" + (interrupted.empty() ? "" : " (" + interrupted + ")") +
                    ": no verdict, the run did not finish",
                "interrupted"};
    }
    if (status == "error")
    {
        return {"ERROR: no verdict", "error"};
    }
    if (status == "conforms-partial")
    {
        return {"PARTIAL RUN (--only): the requirements run conform; not a certificate", "partial"};
    }
    if (status == "does-not-conform-partial")
    {
        return {"PARTIAL RUN (--only): DOES NOT CONFORM", "fail"};
    }
    if (status == "does-not-conform")
    {
        return {"DOES NOT CONFORM", "fail"};
    }
    if (status == "conforms")
    {
        return {"CONFORMS", "pass"};
    }
    return {"UNKNOWN STATUS: " + status, "error"};
}

const char* kStyle = R"(
body{font-family:sans-serif;margin:2em;color:#222;max-width:80em}
h1{font-size:1.6em;margin-bottom:.2em}
.verdict{font-size:1.4em;font-weight:bold;padding:.6em 1em;border-radius:4px;margin:1em 0}
.verdict.pass{background:#d8f0d8;border:2px solid #2a7a2a}
.verdict.fail,.verdict.error{background:#f6d6d6;border:2px solid #a02020}
.verdict.partial,.verdict.interrupted{background:#fff1c8;border:4px dashed #b07800}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}
td.r-pass,td.r-advisory-ok{background:#e4f5e4}
td.r-fail,td.r-error{background:#f8dcdc;font-weight:bold}
td.r-skip,td.r-untested{background:#f0f0f0;color:#666}
td.r-advisory-finding{background:#fff1c8}
td.r-none{color:#aaa;text-align:center}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;white-space:pre-wrap;word-break:break-word}
code{font-family:monospace}
)";

void
Row(std::ostream& os, const std::string& key, const std::string& value)
{
    os << "<tr><th>" << Esc(key) << "</th><td>" << Esc(value) << "</td></tr>\n";
}

void
DeviceSection(std::ostream& os, const Json& certify)
{
    const Json& device = Field(certify, "device");
    const Json& caps = Field(device, "capabilities");
    os << "<h2>Device</h2>\n<table class=\"device\">\n";
    Row(os, "spec", ValueOr(device, "spec", ""));
    const std::string mutant = ValueOr(device, "mutant", "");
    if (!mutant.empty())
    {
        Row(os, "mutant", mutant);
    }
    // The names when the suite gave them, the raw bit masks beside them.
    auto named = [&caps](const char* names, const char* bits) {
        const std::string text = TextOf(Field(caps, names));
        const std::string raw = TextOf(Field(caps, bits));
        return text.empty() ? raw : text + (raw.empty() ? "" : " (" + raw + ")");
    };
    Row(os, "name", TextOf(Field(caps, "name")));
    Row(os, "description", TextOf(Field(caps, "description")));
    Row(os, "abi_version", TextOf(Field(caps, "abi_version")));
    Row(os, "offload types", named("offload_type_names", "offload_types"));
    Row(os, "features", named("feature_names", "features"));
    Row(os, "algorithms", named("algorithm_names", "algorithms"));
    // 0/1 flags of the ABI, as a reader says them.
    for (const char* key : {"esn", "tunnel", "udp_encap"})
    {
        Row(os,
            key,
            TextOf(Field(caps, key)) == "0"    ? "no"
            : TextOf(Field(caps, key)).empty() ? ""
                                               : "yes");
    }
    for (const char* key : {"max_sa",
                            "max_policies",
                            "max_replay_window",
                            "lifetime_packets",
                            "lifetime_bytes",
                            "lifetime_poll_ms"})
    {
        Row(os, key, TextOf(Field(caps, key)));
    }
    os << "</table>\n";
}

void
MatrixSection(std::ostream& os, const Json& certify)
{
    const Json& modes = Field(certify, "modes");
    os << "<h2>Requirements</h2>\n<table class=\"matrix\">\n<thead><tr><th>requirement</th>"
          "<th>kind</th><th>text</th><th>Linux source</th>";
    for (const auto& mode : modes)
    {
        os << "<th>" << Esc(TextOf(mode)) << "</th>";
    }
    os << "</tr></thead>\n<tbody>\n";
    for (const auto& r : Field(certify, "requirements"))
    {
        const std::string id = ValueOr(r, "id", "");
        const Json& source = Field(r, "source");
        std::string where = TextOf(Field(source, "document"));
        const std::string section = TextOf(Field(source, "section"));
        if (!section.empty())
        {
            where += (where.empty() ? "" : " ") + section;
        }
        const std::string title = TextOf(Field(source, "title"));
        if (!title.empty())
        {
            where += (where.empty() ? "" : ", ") + title;
        }
        os << "<tr class=\"requirement\" data-id=\"" << Esc(id) << "\"><td><code>" << Esc(id)
           << "</code></td><td>" << Esc(ValueOr(r, "kind", "")) << "</td><td>"
           << Esc(ValueOr(r, "text", "")) << "</td><td>";
        const std::string linuxSource = TextOf(Field(source, "linux"));
        if (!linuxSource.empty())
        {
            os << "<code>" << Esc(linuxSource) << "</code><br>";
        }
        os << Esc(where) << "</td>";
        const Json& results = Field(r, "results");
        for (const auto& mode : modes)
        {
            const std::string result = TextOf(Field(results, TextOf(mode).c_str()));
            if (result.empty())
            {
                os << "<td class=\"r-none\">-</td>";
            }
            else
            {
                os << "<td class=\"r-" << Esc(result) << "\">" << Esc(result) << "</td>";
            }
        }
        os << "</tr>\n";
    }
    os << "</tbody>\n</table>\n";
}

void
FailuresSection(std::ostream& os, const Json& certify)
{
    std::ostringstream items;
    const std::string loadError = ValueOr(certify, "error", "");
    if (!loadError.empty())
    {
        items << "<li class=\"failure\"><b>device (error)</b><pre>" << Esc(loadError)
              << "</pre></li>\n";
    }
    for (const auto& r : Field(certify, "requirements"))
    {
        const std::string id = ValueOr(r, "id", "");
        const std::string error = ValueOr(r, "error", "");
        if (!error.empty())
        {
            items << "<li class=\"failure\"><b>" << Esc(id) << " (error)</b><pre>" << Esc(error)
                  << "</pre></li>\n";
        }
        for (const auto& t : Field(r, "tests"))
        {
            const std::string result = ValueOr(t, "result", "");
            if (result != "fail" && result != "error")
            {
                continue;
            }
            items << "<li class=\"failure\"><b>" << Esc(id) << "</b>: <code>"
                  << Esc(ValueOr(t, "name", "")) << "</code> (" << Esc(result) << ")<pre>"
                  << Esc(ValueOr(t, "message", "")) << "</pre></li>\n";
        }
    }
    os << "<h2>Failures and errors</h2>\n";
    const std::string list = items.str();
    os << (list.empty() ? "<p>None.</p>\n" : "<ul class=\"failures\">\n" + list + "</ul>\n");
}

void
FindingsSection(std::ostream& os, const Json& certify)
{
    os << "<h2>Advisory findings</h2>\n<p>Advisory checks are reported and never change the "
          "verdict.</p>\n";
    const Json& findings = Field(certify, "advisory_findings");
    if (!findings.is_array() || findings.empty())
    {
        os << "<p>None.</p>\n";
        return;
    }
    os << "<ul class=\"findings\">\n";
    for (const auto& f : findings)
    {
        os << "<li class=\"finding\"><b>" << Esc(ValueOr(f, "id", "")) << "</b>: <code>"
           << Esc(ValueOr(f, "test", "")) << "</code><pre>" << Esc(ValueOr(f, "finding", ""))
           << "</pre></li>\n";
    }
    os << "</ul>\n";
}

void
SkipList(std::ostream& os,
         const std::string& cls,
         const std::string& heading,
         const std::vector<std::string>& items)
{
    os << "<h3>" << Esc(heading) << " (" << items.size() << ")</h3>\n";
    if (items.empty())
    {
        os << "<p>None.</p>\n";
        return;
    }
    os << "<ul class=\"" << cls << "\">\n";
    for (const auto& item : items)
    {
        os << item;
    }
    os << "</ul>\n";
}

void
SkipsSection(std::ostream& os, const Json& certify)
{
    // A skip is either the device not offering what the test needs, or a test offloadlab
    // itself does not have yet: a customer must tell the two apart.
    std::vector<std::string> offered;
    std::vector<std::string> notBuilt;
    std::vector<std::string> untested;
    for (const auto& r : Field(certify, "requirements"))
    {
        for (const auto& t : Field(r, "tests"))
        {
            const std::string result = ValueOr(t, "result", "");
            if (result != "skip" && result != "untested")
            {
                continue;
            }
            const std::string message = ValueOr(t, "message", "");
            const std::string item = "<li class=\"skip\"><code>" + Esc(ValueOr(t, "name", "")) +
                                     "</code>: " + Esc(message) + "</li>\n";
            if (result == "untested")
            {
                untested.push_back(item);
            }
            else if (StartsWith(message, "not built"))
            {
                notBuilt.push_back(item);
            }
            else
            {
                offered.push_back(item);
            }
        }
    }
    os << "<h2>Skipped tests</h2>\n";
    SkipList(os, "skips-not-offered", "Not offered by the device", offered);
    SkipList(os, "skips-not-built", "Not built in offloadlab", notBuilt);
    if (!untested.empty())
    {
        SkipList(os, "untested", "Not reached (the run was interrupted)", untested);
    }
}

void
ProvenanceSection(std::ostream& os, const Json& certify)
{
    const Json& p = Field(certify, "provenance");
    os << "<h2>Traceability</h2>\n<table class=\"provenance\">\n";
    for (const char* key : {"offloadlab_version",
                            "offloadlab_commit",
                            "catalog",
                            "catalog_version",
                            "catalog_sha256",
                            "device_spec",
                            "device_library",
                            "device_sha256",
                            "host",
                            "started",
                            "duration_seconds",
                            "command_line"})
    {
        Row(os, key, TextOf(Field(p, key)));
    }
    os << "</table>\n";
}
} // namespace

std::string
CertificateHtml(const Json& certify)
{
    const Json& device = Field(certify, "device");
    std::string name = TextOf(Field(Field(device, "capabilities"), "name"));
    if (name.empty())
    {
        name = ValueOr(device, "spec", "");
    }
    const Verdict verdict = VerdictOf(certify);
    const std::string title = "offloadlab certificate: " + name + ": " + verdict.text;
    std::ostringstream os;
    os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>" << Esc(title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
       << "<h1>offloadlab certificate: " << Esc(name) << "</h1>\n"
       << "<div class=\"verdict " << verdict.cls << "\" data-status=\""
       << Esc(ValueOr(certify, "status", "")) << "\">" << Esc(verdict.text) << "</div>\n";
    const Json& only = Field(certify, "only");
    if (ValueOr(certify, "partial", false))
    {
        os << "<p class=\"note\">Only the requirements named with --only ran (" << Esc(TextOf(only))
           << "). A full run is needed for a certificate.</p>\n";
    }
    DeviceSection(os, certify);
    MatrixSection(os, certify);
    FailuresSection(os, certify);
    FindingsSection(os, certify);
    SkipsSection(os, certify);
    ProvenanceSection(os, certify);
    os << "</body>\n</html>\n";
    return os.str();
}

} // namespace offloadlab
