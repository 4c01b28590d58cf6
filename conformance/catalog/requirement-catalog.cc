#include "requirement-catalog.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

namespace offloadlab
{

const char*
Requirement::Kind() const
{
    return allowance ? "allowance" : advisory ? "advisory" : "requirement";
}

bool
Requirement::AppliesTo(const std::string& mode) const
{
    return std::find(modes.begin(), modes.end(), mode) != modes.end();
}

std::string
RequirementCatalog::DefaultPath()
{
    return OFFLOADLAB_CATALOG;
}

bool
RequirementCatalog::Load(const std::string& path, RequirementCatalog* catalog, std::string* error)
{
    std::ifstream in(path);
    if (!in)
    {
        *error = "catalog: cannot read '" + path + "'";
        return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    if (!Parse(text.str(), catalog, error))
    {
        *error = path + ": " + *error;
        return false;
    }
    return true;
}

namespace
{
/// A string field of a JSON object, or "" with an error naming where.
bool
StringField(const nlohmann::json& object,
            const char* name,
            const std::string& where,
            std::string* value,
            std::string* error)
{
    auto it = object.find(name);
    if (it == object.end() || !it->is_string() || it->get<std::string>().empty())
    {
        *error = where + ": " + name + ": missing or not a non-empty string";
        return false;
    }
    *value = it->get<std::string>();
    return true;
}

/// The optional "abi_rules" list: each names only requirement IDs of the catalog.
bool
ParseAbiRules(const nlohmann::json& doc,
              const std::set<std::string>& ids,
              std::vector<AbiRule>* rules,
              std::string* error)
{
    if (!doc.contains("abi_rules"))
    {
        return true;
    }
    if (!doc["abi_rules"].is_array())
    {
        *error = "abi_rules: expected a list";
        return false;
    }
    size_t index = 0;
    for (const auto& item : doc["abi_rules"])
    {
        const std::string where = "abi_rules[" + std::to_string(index++) + "]";
        AbiRule rule;
        if (!item.is_object() || !StringField(item, "rule", where, &rule.rule, error) ||
            !StringField(item, "where", where, &rule.where, error))
        {
            if (!item.is_object())
            {
                *error = where + ": expected an object";
            }
            return false;
        }
        for (const char* list : {"requirements", "mutants"})
        {
            auto& out = std::string(list) == "requirements" ? rule.requirements : rule.mutants;
            if (!item.contains(list))
            {
                continue;
            }
            if (!item[list].is_array())
            {
                *error = where + ": " + list + ": expected a list";
                return false;
            }
            for (const auto& name : item[list])
            {
                if (!name.is_string() || name.get<std::string>().empty())
                {
                    *error = where + ": " + list + ": expected names";
                    return false;
                }
                out.push_back(name.get<std::string>());
            }
        }
        for (const auto& id : rule.requirements)
        {
            if (!ids.count(id))
            {
                *error = where + ": requirements: '" + id + "' is not a requirement of the catalog";
                return false;
            }
        }
        if (item.contains("note") && !StringField(item, "note", where, &rule.note, error))
        {
            return false;
        }
        if ((rule.requirements.empty() || rule.mutants.empty()) && rule.note.empty())
        {
            *error = where + ": note: a rule without a requirement or a mutant says why";
            return false;
        }
        rules->push_back(rule);
    }
    return true;
}
} // namespace

bool
RequirementCatalog::Parse(const std::string& text, RequirementCatalog* catalog, std::string* error)
{
    nlohmann::json doc;
    try
    {
        doc = nlohmann::json::parse(text);
    }
    catch (const nlohmann::json::parse_error& e)
    {
        *error = std::string("not JSON: ") + e.what();
        return false;
    }
    if (!doc.is_object() || doc.value("version", 0) != 1)
    {
        *error = "version: expected 1";
        return false;
    }
    RequirementCatalog c;
    if (!doc["modes"].is_array() || doc["modes"].empty())
    {
        *error = "modes: expected a non-empty list";
        return false;
    }
    for (const auto& m : doc["modes"])
    {
        c.m_modes.push_back(m.get<std::string>());
    }
    if (!doc["documents"].is_object())
    {
        *error = "documents: expected an object of name -> title";
        return false;
    }
    for (const auto& [name, title] : doc["documents"].items())
    {
        c.m_documents[name] = title.get<std::string>();
    }
    if (!doc["requirements"].is_array())
    {
        *error = "requirements: expected a list";
        return false;
    }
    static const std::regex idPattern("[A-Z0-9]+(-[A-Z0-9]+)+");
    std::set<std::string> ids;
    size_t index = 0;
    for (const auto& item : doc["requirements"])
    {
        std::string where = "requirements[" + std::to_string(index++) + "]";
        Requirement r;
        if (!item.is_object() || !StringField(item, "id", where, &r.id, error))
        {
            if (!item.is_object())
            {
                *error = where + ": expected an object";
            }
            return false;
        }
        where += " (" + r.id + ")";
        if (!std::regex_match(r.id, idPattern))
        {
            *error = where + ": id: '" + r.id + "' is not like AREA-WORD(-WORD...)";
            return false;
        }
        if (!ids.insert(r.id).second)
        {
            *error = where + ": id: '" + r.id + "' appears twice";
            return false;
        }
        if (!StringField(item, "text", where, &r.text, error))
        {
            return false;
        }
        if (r.text.back() != '.')
        {
            *error = where + ": text: one sentence ending with '.', got '" + r.text + "'";
            return false;
        }
        const std::string kind = item.value("kind", "");
        if (kind != "requirement" && kind != "allowance" && kind != "advisory")
        {
            *error = where + ": kind: '" + kind + "' (expected requirement, allowance or advisory)";
            return false;
        }
        r.allowance = kind == "allowance";
        r.advisory = kind == "advisory";
        if (r.allowance != (r.id.rfind("ALLOW-", 0) == 0))
        {
            *error = where + ": id: allowances, and only they, start with ALLOW-";
            return false;
        }
        if (!item["modes"].is_array() || item["modes"].empty())
        {
            *error = where + ": modes: expected a non-empty list";
            return false;
        }
        for (const auto& m : item["modes"])
        {
            const std::string mode = m.is_string() ? m.get<std::string>() : m.dump();
            if (std::find(c.m_modes.begin(), c.m_modes.end(), mode) == c.m_modes.end() ||
                r.AppliesTo(mode))
            {
                *error = where + ": modes: '" + mode + "' is unknown or repeated";
                return false;
            }
            r.modes.push_back(mode);
        }
        const auto& source = item["source"];
        if (!source.is_object() ||
            !StringField(source, "document", where + ": source", &r.document, error) ||
            !StringField(source, "section", where + ": source", &r.section, error))
        {
            if (!source.is_object())
            {
                *error = where + ": source: expected {document, section}";
            }
            return false;
        }
        if (source.contains("linux"))
        {
            if (!StringField(source, "linux", where + ": source", &r.linuxFunction, error))
            {
                return false;
            }
        }
        if (!c.m_documents.count(r.document))
        {
            *error = where + ": source.document: '" + r.document + "' is not in documents";
            return false;
        }
        c.m_requirements.push_back(r);
    }
    if (!ParseAbiRules(doc, ids, &c.m_abiRules, error))
    {
        return false;
    }
    *catalog = std::move(c);
    return true;
}

const std::vector<AbiRule>&
RequirementCatalog::GetAbiRules() const
{
    return m_abiRules;
}

const std::vector<Requirement>&
RequirementCatalog::GetRequirements() const
{
    return m_requirements;
}

const Requirement*
RequirementCatalog::Find(const std::string& id) const
{
    for (const auto& r : m_requirements)
    {
        if (r.id == id)
        {
            return &r;
        }
    }
    return nullptr;
}

const std::vector<std::string>&
RequirementCatalog::GetModes() const
{
    return m_modes;
}

const std::map<std::string, std::string>&
RequirementCatalog::GetDocuments() const
{
    return m_documents;
}

std::string
RequirementCatalog::ToMarkdown() const
{
    std::ostringstream os;
    // kind: 0 requirements, 1 allowances, 2 advisories.
    auto table = [&](int kind) {
        os << "| ID | "
           << (kind == 1   ? "allowed difference"
               : kind == 2 ? "advisory check"
                           : "requirement");
        for (const auto& m : m_modes)
        {
            os << " | " << m;
        }
        os << " | source |\n|---|---";
        for (size_t i = 0; i < m_modes.size(); ++i)
        {
            os << "|:-:";
        }
        os << "|---|\n";
        for (const auto& r : m_requirements)
        {
            if ((r.allowance ? 1 : r.advisory ? 2 : 0) != kind)
            {
                continue;
            }
            os << "| `" << r.id << "` | " << r.text;
            for (const auto& m : m_modes)
            {
                os << " | " << (r.AppliesTo(m) ? "x" : "");
            }
            os << " | " << r.document << ": " << r.section;
            if (!r.linuxFunction.empty())
            {
                os << "; Linux `" << r.linuxFunction << "`";
            }
            os << " |\n";
        }
    };
    size_t requirements = 0;
    size_t advisories = 0;
    for (const auto& r : m_requirements)
    {
        requirements += r.allowance || r.advisory ? 0 : 1;
        advisories += r.advisory ? 1 : 0;
    }
    os << "# Conformance requirements\n\n"
          "Generated from `conformance/catalog/requirements.json` by `offloadlab catalog "
          "--markdown`;\n"
          "a test fails when this file and the catalog differ. Do not edit by hand.\n\n"
       << requirements << " requirements, " << advisories << " advisory checks and "
       << m_requirements.size() - requirements - advisories
       << " allowed differences. An `x` marks a mode the requirement applies to:\n"
          "`sw` software IPsec, `crypto` crypto offload, `packet` packet (full) offload.\n\n"
          "Status: the catalog is the contract `offloadlab certify` checks a device against,\n"
          "requirement by requirement, with the conformance suite (one GoogleTest suite per ID);\n"
          "this table does not claim any device's result.\n\n"
          "## Requirements\n\n";
    table(0);
    os << "\n## Advisory checks\n\n"
          "Rules the sources ask of a sender that Linux does not check as a receiver: `offloadlab\n"
          "certify` reports each as advisory-ok or advisory-finding (with the reason), and a "
          "finding\n"
          "never fails a device.\n\n";
    table(2);
    os << "\n## Allowed differences from software IPsec\n\n"
          "Differential checks compare each offload mode with software IPsec; these are the only\n"
          "differences the sources allow, each a catalog entry of its own.\n\n";
    table(1);
    if (!m_abiRules.empty())
    {
        auto names = [](const std::vector<std::string>& list, const char* prefix) {
            std::string out;
            for (const auto& name : list)
            {
                out += (out.empty() ? "`" : ", `") + std::string(prefix) + name + "`";
            }
            return out.empty() ? std::string("-") : out;
        };
        os << "\n## Rules of the device ABI\n\n"
              "Every rule that `emu_nic/nic/abi/offloadlab-device.h` and `docs/vendor-guide.md` "
              "state is a\npromise to vendors. For each: where it is stated, the requirement a "
              "device breaking only\nthat rule fails, and the built-in mutant that breaks it "
              "(`-`: none; the note says why).\n\n"
              "| rule | stated in | requirement | mutant | note |\n|---|---|---|---|---|\n";
        for (const auto& r : m_abiRules)
        {
            os << "| " << r.rule << " | " << r.where << " | " << names(r.requirements, "") << " | "
               << names(r.mutants, "mutant:") << " | " << r.note << " |\n";
        }
    }
    os << "\n## Sources\n\n";
    for (const auto& [name, title] : m_documents)
    {
        os << "- `" << name << "`: " << title << "\n";
    }
    return os.str();
}

} // namespace offloadlab
