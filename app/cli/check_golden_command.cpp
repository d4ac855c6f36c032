#include "cli_args.h"
#include "commands.h"

#include "golden_case.h"

#include <cstdio>

namespace folio::cli {

int runCheckGolden(const std::vector<std::string>& argv) {
    Args args(argv, {"backend", "threads"});
    if (args.has("help")) {
        std::puts("Usage: folio-cli check-golden CASE_DIR [--backend auto|cpu|cuda]\n"
                  "Runs every chunk schedule and decode step of a reference case. The last line\n"
                  "reads max_rel_err=<float> tokens=<match|mismatch>; the exit status is 0\n"
                  "exactly when the case's tolerances hold.");
        return 0;
    }
    if (!args.ok() || args.positionals().size() != 1) {
        std::fprintf(stderr, "check-golden: %s\n",
                     args.ok() ? "expected one CASE_DIR" : args.error().c_str());
        return 2;
    }
    auto kind = sala::parseBackendKind(args.value("backend").value_or("auto"));
    if (!kind) {
        std::fprintf(stderr, "check-golden: %s\n", kind.error().message.c_str());
        return 2;
    }
    auto log = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    // A bf16 engine is judged teacher-forced against the bf16 yardstick of the reference
    // cases; the CPU backend against the case's own f32 tolerances.
    const bool bf16 = *kind == sala::BackendKind::Cuda ||
                      (*kind == sala::BackendKind::Auto && sala::cudaBackendAvailable());
    const sala::GoldenTolerances bf16Tolerances = sala::GoldenTolerances::bf16Engine();
    auto report =
        sala::runGoldenCase(args.positionals()[0], *kind, log, bf16 ? &bf16Tolerances : nullptr);
    if (!report) {
        std::fprintf(stderr, "check-golden: %s\n", report.error().message.c_str());
        return 1;
    }
    std::printf("rows=%d schedules=%d median_rel_err=%.3g hidden_rel_err=%.3g top1=%d/%d "
                "selections=%s\n",
                report->rowsCompared, report->schedules, report->medianRelErr,
                report->maxHiddenRelErr, report->top1Agree, report->top1Rows,
                report->selectionsMatch ? "match" : "mismatch");
    std::printf("max_rel_err=%.6g tokens=%s\n", report->maxRelErr,
                report->tokensMatch ? "match" : "mismatch");
    return report->passed ? 0 : 1;
}

} // namespace folio::cli
