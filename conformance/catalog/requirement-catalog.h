#ifndef REQUIREMENT_CATALOG_H
#define REQUIREMENT_CATALOG_H

#include <map>
#include <string>
#include <vector>

namespace offloadlab
{

/// One conformance requirement (or an allowed difference from software IPsec).
struct Requirement
{
    std::string id;                 //!< stable, e.g. PKT-FRAG-TX-DROP
    std::string text;               //!< one sentence
    std::vector<std::string> modes; //!< sw, crypto, packet
    std::string document;           //!< key into the catalog's documents
    std::string section;
    std::string linuxFunction; //!< the Linux function it follows ("" when only an RFC is cited)
    bool allowance{false};     //!< a difference from software IPsec that the sources permit
    /// Reported, never failing: a rule the sources ask of a sender but Linux does not check
    /// (its tests come out advisory-ok or advisory-finding).
    bool advisory{false};

    /// "requirement", "allowance" or "advisory".
    const char* Kind() const;

    bool AppliesTo(const std::string& mode) const;
};

/// One rule the device ABI (its header or the vendor guide) states to vendors, with what checks it.
struct AbiRule
{
    std::string rule;                      //!< the promise, in one sentence
    std::string where;                     //!< header field/comment or vendor-guide section
    std::vector<std::string> requirements; //!< catalog IDs a device breaking only this rule fails
    std::vector<std::string> mutants;      //!< built-in mutants (mutant:NAME) that break it
    std::string note;                      //!< why there is no requirement or mutant, if so
};

/**
 * The requirement catalog (conformance/catalog/requirements.json): stable IDs, one sentence each,
 * the modes they apply to and their source. It drives the docs table, test names and report rows.
 */
class RequirementCatalog
{
  public:
    /// The catalog in the source tree this binary was built from.
    static std::string DefaultPath();
    /// Loads and validates; on failure the message names the entry, the field and the value.
    static bool Load(const std::string& path, RequirementCatalog* catalog, std::string* error);
    static bool Parse(const std::string& json, RequirementCatalog* catalog, std::string* error);

    const std::vector<Requirement>& GetRequirements() const;
    const Requirement* Find(const std::string& id) const;
    const std::vector<std::string>& GetModes() const;
    const std::map<std::string, std::string>& GetDocuments() const;
    const std::vector<AbiRule>& GetAbiRules() const;

    /// docs/conformance.md: the requirement x mode matrix, allowances and sources.
    std::string ToMarkdown() const;

  private:
    std::vector<std::string> m_modes;
    std::map<std::string, std::string> m_documents;
    std::vector<Requirement> m_requirements;
    std::vector<AbiRule> m_abiRules;
};

} // namespace offloadlab

#endif // REQUIREMENT_CATALOG_H
