#include "util/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#ifndef TC_VERSION
#define TC_VERSION "unknown"
#endif

namespace tc::util {

namespace {

namespace fs = std::filesystem;

// Every app of the tree below app (app included) that has a name: the
// program and its subcommands, not CLI11's nameless option groups (which
// get_option_no_throw already searches).
void NamedApps(CLI::App* app, std::vector<CLI::App*>& out) {
    out.push_back(app);
    for (CLI::App* sub : app->get_subcommands([](CLI::App* s) { return !s->get_name().empty(); })) {
        NamedApps(sub, out);
    }
}

// The program and the subcommands the command line chose.
void SelectedApps(CLI::App* app, std::vector<CLI::App*>& out) {
    out.push_back(app);
    for (CLI::App* sub : app->get_subcommands()) SelectedApps(sub, out);
}

// True if some option of the program, in any subcommand, is --key.
bool KnownKey(CLI::App& app, const std::string& key, CLI::Option** found) {
    std::vector<CLI::App*> apps;
    NamedApps(&app, apps);
    for (CLI::App* a : apps) {
        if (CLI::Option* opt = a->get_option_no_throw("--" + key)) {
            *found = opt;
            return true;
        }
    }
    return false;
}

// Options a config file may satisfy stay required() for --help, but must not
// fail app.parse() before the file is read: they are relaxed around the
// parse and checked by CheckRequired afterwards.
class RelaxRequired {
  public:
    explicit RelaxRequired(CLI::App& app) {
        std::vector<CLI::App*> apps;
        NamedApps(&app, apps);
        for (CLI::App* a : apps) {
            for (CLI::Option* opt : a->get_options()) {
                if (opt->get_required() && opt->get_configurable() && !opt->get_lnames().empty()) {
                    opt->required(false);
                    m_relaxed.push_back(opt);
                }
            }
        }
    }
    ~RelaxRequired() { Restore(); }
    RelaxRequired(const RelaxRequired&) = delete;
    RelaxRequired& operator=(const RelaxRequired&) = delete;

    void Restore() {
        for (CLI::Option* opt : m_relaxed) opt->required(true);
    }
    const std::vector<CLI::Option*>& relaxed() const { return m_relaxed; }

  private:
    std::vector<CLI::Option*> m_relaxed;
};

// Throws what CLI11 would have thrown for a required option that neither
// the command line, the environment nor the file gave.
void CheckRequired(CLI::App& app, const std::vector<CLI::Option*>& relaxed) {
    std::vector<CLI::App*> selected;
    SelectedApps(&app, selected);
    for (CLI::App* a : selected) {
        for (CLI::Option* opt : a->get_options()) {
            if (opt->count() > 0) continue;
            if (std::find(relaxed.begin(), relaxed.end(), opt) != relaxed.end()) {
                throw CLI::RequiredError(opt->get_name());
            }
        }
    }
}

std::string Where(const std::string& file, const toml::source_region& src) {
    return fmt::format("{}:{}:{}", file, src.begin.line, src.begin.column);
}

// One key=value that the file gives this program.
struct Setting {
    const toml::node* value;
    toml::source_region where;  // of the key
};

// A TOML value as CLI11 results: one string per scalar, one per element of an
// array. Tables and nested arrays are not option values.
Result<std::vector<std::string>> ResultsOf(const toml::node& node) {
    std::vector<std::string> out;
    auto scalar = [&out](const toml::node& n) -> bool {
        std::ostringstream os;
        if (auto* s = n.as_string()) {
            out.push_back(s->get());
        } else if (auto* i = n.as_integer()) {
            out.push_back(std::to_string(i->get()));
        } else if (auto* f = n.as_floating_point()) {
            out.push_back(fmt::format("{}", f->get()));
        } else if (auto* b = n.as_boolean()) {
            out.push_back(b->get() ? "true" : "false");
        } else if (auto* d = n.as_date()) {
            os << *d;
            out.push_back(os.str());
        } else if (auto* t = n.as_time()) {
            os << *t;
            out.push_back(os.str());
        } else if (auto* dt = n.as_date_time()) {
            os << *dt;
            out.push_back(os.str());
        } else {
            return false;
        }
        return true;
    };
    if (const auto* arr = node.as_array()) {
        for (const auto& item : *arr) {
            if (!scalar(item)) {
                return MakeError(Errc::kUsage,
                                 "an array of tables or arrays is not an option value");
            }
        }
    } else if (!scalar(node)) {
        return MakeError(Errc::kUsage, "a table is not an option value");
    }
    return out;
}

// Gives opt the file's value unless the command line or the environment gave
// it (count() > 0: CLI11 has already applied both) or gave an option that
// excludes it.
Status ApplySetting(CLI::Option* opt, const std::string& key, const Setting& s) {
    if (opt->count() > 0) return {};
    for (const CLI::Option* other : opt->get_excludes()) {
        if (other->count() > 0) return {};
    }
    TC_TRY(results, ResultsOf(*s.value));
    try {
        if (opt->get_expected_min() == 0) {
            // A flag: "json = true" is --json, "json = false" leaves it off,
            // as CLI11 does for flags in its own config files.
            if (results.size() != 1) {
                return MakeError(Errc::kUsage, "a flag takes one value, true or false");
            }
            opt->add_result(opt->get_flag_value(key, results.front()));
        } else {
            opt->add_result(results);
        }
        opt->run_callback();
    } catch (const CLI::Error& e) {
        return MakeError(Errc::kUsage, e.what());
    }
    return {};
}

// Reads the file at path and applies the settings for stage to the options
// of app that the command line and environment left unset.
Status ApplyFile(CLI::App& app, const std::string& path, const std::string& stage) {
    toml::table doc;
    try {
        doc = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        return MakeError(Errc::kUsage,
                         Where(path, e.source()) + ": " + std::string(e.description()));
    }

    // Collect first, so that the program's own table overrides the top
    // level whatever their order in the file.
    std::map<std::string, Setting> settings;
    auto take = [&](const toml::key& key, const toml::node& value, bool own) -> Status {
        std::string name(key.str());
        CLI::Option* opt = nullptr;
        if (!KnownKey(app, name, &opt)) {
            if (!own) return {};  // may belong to another program
            return MakeError(Errc::kUsage, fmt::format("{}: unknown key '{}' in [{}]",
                                                       Where(path, key.source()), name, stage));
        }
        if (!opt->get_configurable()) {
            return MakeError(Errc::kUsage, fmt::format("{}: '{}' cannot be set in a config file",
                                                       Where(path, key.source()), name));
        }
        settings[name] = Setting{&value, key.source()};
        return {};
    };
    for (const auto& [key, value] : doc) {
        if (value.is_table()) continue;  // a program's table: ours is read below
        TC_CHECK(take(key, value, /*own=*/false));
    }
    if (const toml::node* own = doc.get(stage)) {
        const toml::table* table = own->as_table();
        if (table == nullptr) {
            return MakeError(Errc::kUsage, fmt::format("{}: '{}' must be a table, [{}]",
                                                       Where(path, own->source()), stage, stage));
        }
        for (const auto& [key, value] : *table) TC_CHECK(take(key, value, /*own=*/true));
    }

    std::vector<CLI::App*> selected;
    SelectedApps(&app, selected);
    for (const auto& [name, setting] : settings) {
        for (CLI::App* a : selected) {
            CLI::Option* opt = a->get_option_no_throw("--" + name);
            if (opt == nullptr) continue;  // an option of another subcommand
            Status st = ApplySetting(opt, name, setting);
            if (!st.ok()) {
                return MakeError(Errc::kUsage, fmt::format("{}: {}: {}", Where(path, setting.where),
                                                           name, st.error().message));
            }
        }
    }
    return {};
}

// Fills in opts.datadir (flag > env > $HOME/.timecoin), finds the config file
// and applies it.
Status ResolveConfig(CLI::App& app, CommonOptions& opts) {
    if (opts.datadir.empty()) {
        TC_TRY(home, DefaultDatadir());
        opts.datadir = std::move(home);
    }
    std::error_code ec;
    if (!opts.config_file.empty()) {
        // Named by --config or TC_CONFIG: it must exist.
        auto status = fs::status(opts.config_file, ec);
        if (!fs::exists(status)) {
            return MakeError(Errc::kUsage,
                             fmt::format("--config {}: no such config file", opts.config_file));
        }
        if (!fs::is_regular_file(status)) {
            return MakeError(Errc::kUsage,
                             fmt::format("--config {}: not a regular file", opts.config_file));
        }
    } else {
        std::string implicit = opts.datadir + "/timecoin.toml";
        if (!fs::exists(fs::status(implicit, ec))) return {};  // no file is fine
        opts.config_file = implicit;
    }
    return ApplyFile(app, opts.config_file, opts.stage);
}

}  // namespace

Result<std::string> DefaultDatadir() {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
        return MakeError(Errc::kUsage,
                         "no datadir: give --datadir or TC_DATADIR (HOME is not set)");
    }
    return std::string(home) + "/.timecoin";
}

std::string RunEndpoint(const std::string& datadir, const std::string& name) {
    return "ipc://" + datadir + "/run/" + name + ".sock";
}

std::string LedgerDir(const std::string& datadir) {
    return datadir + "/ledger";
}

std::string LogDir(const std::string& datadir) {
    return datadir + "/log";
}

const CLI::Validator& DecimalUnsigned() {
    static const CLI::Validator kCheck(
        [](std::string& value) -> std::string {
            bool digits = !value.empty() && value.size() <= 20 &&
                          std::all_of(value.begin(), value.end(),
                                      [](char c) { return c >= '0' && c <= '9'; });
            if (!digits) return "\"" + value + "\" is not a decimal number";
            if (value.size() > 1 && value[0] == '0') return "\"" + value + "\" has a leading zero";
            // strtoull saturates silently: 2^64 would become 2^64-1.
            if (value.size() == 20 && value > "18446744073709551615") {
                return "\"" + value + "\" is above 18446744073709551615";
            }
            return {};
        },
        "UINT");
    return kCheck;
}

CLI::Option* AddBound(CLI::App* cmd, const std::string& flag, uint64_t& value,
                      const std::string& help, uint64_t lowest, uint64_t highest) {
    return cmd->add_option(flag, value, help)
        ->capture_default_str()
        ->check(DecimalUnsigned())
        ->check(CLI::Range(lowest, highest));
}

CLI::Option* WithEnv(CLI::Option* opt) {
    std::string env = "TC_";
    for (char c : opt->get_single_name()) {
        env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    opt->envname(env);
    return opt;
}

void AddCommonOptions(CLI::App& app, CommonOptions& opts, std::string stage) {
    opts.stage = std::move(stage);
    if (app.get_name().empty()) app.name("tc-" + opts.stage);
    app.set_version_flag("--version", app.get_name() + " " TC_VERSION,
                         "print the program name and version, and exit");
    WithEnv(app.add_option("--datadir", opts.datadir, "data directory (default $HOME/.timecoin)"))
        ->type_name("DIR")
        ->configurable(false);
    WithEnv(app.add_option("--config", opts.config_file,
                           "TOML config file (default DATADIR/timecoin.toml if it exists)"))
        ->type_name("FILE")
        ->configurable(false);
    WithEnv(app.add_option("--log-level", opts.log_level, "trace, debug, info, warn or error"))
        ->type_name("LEVEL")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    WithEnv(app.add_option("--log-format", opts.log_format, "log lines as text or json"))
        ->type_name("FORMAT")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--json", opts.json, "print data as JSON");
    // Subcommands created after this inherit it, so that common options may
    // follow the subcommand: tc-store status --json.
    app.fallthrough();
}

Status ParseCommandLine(CLI::App& app, CommonOptions& opts, int argc, const char* const* argv) {
    RelaxRequired relax(app);
    app.parse(argc, argv);  // flags, then TC_* for what flags left unset
    relax.Restore();
    TC_CHECK(ResolveConfig(app, opts));  // then the file for what is still unset
    CheckRequired(app, relax.relaxed());
    return {};
}

}  // namespace tc::util
