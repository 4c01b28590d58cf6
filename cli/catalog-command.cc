#include "command.h"
#include "requirement-catalog.h"

#include <iomanip>
#include <iostream>

namespace offloadlab
{

void
PrintCatalogHelp()
{
    std::cout << "usage: offloadlab catalog [--markdown] [--file PATH]\n"
                 "\n"
                 "Validates the conformance requirement catalog and prints it: one line per\n"
                 "requirement (ID, modes, sentence), or with --markdown the docs/conformance.md\n"
                 "table made from it.\n"
                 "\n"
                 "options:\n"
                 "  --file PATH   a catalog other than the built-in "
                 "conformance/catalog/requirements.json\n"
                 "  --markdown    print the Markdown matrix (requirement x mode)\n"
                 "exit codes: 0 valid, 2 bad arguments or an invalid catalog (the error names the\n"
                 "            entry and the field)\n";
}

int
CatalogCommand(const std::vector<std::string>& args)
{
    std::string path = RequirementCatalog::DefaultPath();
    bool markdown = false;
    for (size_t i = 0; i < args.size(); ++i)
    {
        if (args[i] == "-h" || args[i] == "--help")
        {
            PrintCatalogHelp();
            return kExitOk;
        }
        else if (args[i] == "--markdown")
        {
            markdown = true;
        }
        else if (args[i] == "--file" && i + 1 < args.size())
        {
            path = args[++i];
        }
        else
        {
            std::cerr << "offloadlab catalog: unknown option '" << args[i]
                      << "'\n(see `offloadlab catalog --help`)\n";
            return kExitUsage;
        }
    }
    RequirementCatalog catalog;
    std::string error;
    if (!RequirementCatalog::Load(path, &catalog, &error))
    {
        std::cerr << "offloadlab catalog: " << error << "\n";
        return kExitUsage;
    }
    if (markdown)
    {
        std::cout << catalog.ToMarkdown();
        return kExitOk;
    }
    for (const auto& r : catalog.GetRequirements())
    {
        std::string modes;
        for (const auto& m : r.modes)
        {
            modes += (modes.empty() ? "" : ",") + m;
        }
        std::cout << std::left << std::setw(28) << r.id << std::setw(18) << modes << r.text << "\n";
    }
    return kExitOk;
}

} // namespace offloadlab
