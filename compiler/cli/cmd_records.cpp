// m1c records: tuning records files (m1c tune --out, --schedule) shared between machines
// and people. `merge` combines files keeping every measurement; `show` summarises one. A
// bad file is refused as --schedule refuses it (the file, the record, what is wrong).
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "records.h"        // schedules/
#include "records_tools.h"  // schedules/

namespace m1c::cli {
namespace {

struct RecordsOptions {
    std::vector<std::string> inputs;
    std::string out, file;
};

void merge(const RecordsOptions &o) {
    const schedules::MergedRecords m = schedules::merge_records(o.inputs);
    schedules::write_records(o.out, m.records);
    std::cerr << "m1c: merged " << o.inputs.size() << " file" << (o.inputs.size() == 1 ? "" : "s") << " into " << o.out
              << ": " << m.records.size() << " records";
    if (m.duplicates) std::cerr << " (" << m.duplicates << " identical to another record, kept once)";
    std::cerr << "\n";
}

void show(const RecordsOptions &o) {
    std::cout << o.file << ": " << schedules::summarize_records(schedules::read_records(o.file));
}

void setup(CLI::App &app) {
    auto o = std::make_shared<RecordsOptions>();
    CLI::App *cmd = app.add_subcommand("records", "merge and show tuning records files (m1c tune --out)");
    cmd->require_subcommand(1);
    CLI::App *m = cmd->add_subcommand("merge", "combine records files into one, keeping every measurement");
    m->add_option("files", o->inputs, "records files (JSON from m1c tune)")->required();
    m->add_option("--out,-o", o->out, "the merged file (written atomically; may be one of the inputs)")->required();
    m->callback([o] { merge(*o); });
    CLI::App *s = cmd->add_subcommand("show", "summarise a records file: per device and target, each op's pick");
    s->add_option("file", o->file, "records file")->required();
    s->callback([o] { show(*o); });
}

CommandRegistration registration(47, setup);

}  // namespace
}  // namespace m1c::cli
