#include "cli_args.h"
#include "commands.h"

#include "chat_format.h"
#include "file_util.h"
#include "generator.h"
#include "stream_decoder.h"
#include "tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace folio::cli {

namespace {

const char* kGenerateHelp =
    "Usage: folio-cli generate --model DIR (--prompt TEXT | --file PATH) [options]\n"
    "Streams the model's continuation of the prompt (or its answer, with --chat).\n"
    "  --chat               wrap the prompt as a user turn of a ChatML conversation\n"
    "  --system TEXT        system message (with --chat)\n"
    "  --no-think           pre-fill an empty <think></think> section (with --chat)\n"
    "  --max-tokens N       stop after N generated tokens (default 512)\n"
    "  --temperature T      0 = greedy (default: the model's generation_config, else 0.9)\n"
    "  --top-k K  --top-p P  --min-p P  --repeat-penalty R  --seed S\n"
    "  --chunk N            prefill chunk size (default 256)\n"
    "  --threads N          CPU threads (default: all cores)\n"
    "  --backend B          auto, cpu or cuda (default auto)\n"
    "  --stats              print timings to standard error at the end\n"
    "  --progress           print the weights' loading progress to standard error (shown\n"
    "                       anyway when standard error is a terminal)\n";

// Starts from the model folder's generation_config.json, then applies the flags.
sala::SamplingParams samplingParams(Args& args, const std::filesystem::path& modelDir) {
    sala::SamplingParams p;
    p.temperature = 0.9f;
    p.topP = 1.0f;
    auto defaults = sala::loadGenerationDefaults(modelDir / "generation_config.json");
    if (defaults) {
        if (defaults->hasTemperature) p.temperature = static_cast<float>(defaults->temperature);
        if (defaults->hasTopP) p.topP = static_cast<float>(defaults->topP);
        if (defaults->hasTopK) p.topK = defaults->topK;
        if (defaults->hasDoSample && !defaults->doSample) p.temperature = 0;
    }
    p.temperature = static_cast<float>(args.number("temperature", p.temperature));
    p.topK = static_cast<int>(args.integer("top-k", p.topK));
    p.topP = static_cast<float>(args.number("top-p", p.topP));
    p.minP = static_cast<float>(args.number("min-p", p.minP));
    p.repetitionPenalty = static_cast<float>(args.number("repeat-penalty", 1.0));
    p.seed = static_cast<uint64_t>(args.integer("seed", 0));
    return p;
}

// The weights' loading progress on standard error, a percent at a time: rewritten in place on
// a terminal, a line each otherwise.
sala::LoadProgress progressPrinter(bool terminal) {
    return [terminal, shown = -1](uint64_t done, uint64_t total) mutable {
        const int percent = total > 0 ? static_cast<int>(done * 100 / total) : 100;
        if (percent == shown) return true;
        shown = percent;
        std::fprintf(stderr,
                     terminal ? "\rloading the model: %3d %%" : "loading the model: %d %%\n",
                     percent);
        if (terminal && percent == 100) std::fputs("\n", stderr);
        std::fflush(stderr);
        return true;
    };
}

int fail(const std::string& message) {
    std::fprintf(stderr, "generate: %s\n", message.c_str());
    return 1;
}

} // namespace

int runGenerate(const std::vector<std::string>& argv) {
    Args args(argv, {"model", "prompt", "file", "system", "max-tokens", "temperature", "top-k",
                     "top-p", "min-p", "repeat-penalty", "seed", "chunk", "threads", "backend"});
    if (args.has("help")) {
        std::fputs(kGenerateHelp, stdout);
        return 0;
    }
    const auto modelDir = args.value("model");
    const auto promptText = args.value("prompt");
    const auto promptFile = args.value("file");
    if (args.ok() && (!modelDir || promptText.has_value() == promptFile.has_value())) {
        std::fprintf(stderr, "generate: needs --model DIR and one of --prompt or --file\n");
        return 2;
    }
    sala::GenerationOptions options;
    if (modelDir) options.sampling = samplingParams(args, *modelDir);
    options.maxTokens = static_cast<int>(args.integer("max-tokens", 512));
    options.prefillChunk = static_cast<int>(args.integer("chunk", 256));
    sala::BackendOptions backendOptions;
    backendOptions.threads = static_cast<int>(args.integer("threads", 0));
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    if (args.has("progress") || terminal) backendOptions.progress = progressPrinter(terminal);
    auto kind = sala::parseBackendKind(args.value("backend").value_or("auto"));
    if (!args.ok() || !kind) {
        std::fprintf(stderr, "generate: %s\n",
                     args.ok() ? kind.error().message.c_str() : args.error().c_str());
        return 2;
    }

    std::string text;
    if (promptFile) {
        auto content = sala::readTextFile(*promptFile);
        if (!content) return fail(content.error().message);
        text = std::move(content).value();
    } else {
        text = *promptText;
    }
    auto tokenizer = sala::Tokenizer::load(*modelDir);
    if (!tokenizer) return fail(tokenizer.error().message);
    auto model = sala::loadModel(*modelDir);
    if (!model) return fail(model.error().message);
    auto backend = sala::createBackend(*kind, *model, backendOptions);
    if (!backend) return fail(backend.error().message);
    auto ctx = (*backend)->createContext();
    if (!ctx) return fail(ctx.error().message);

    std::vector<int> prompt;
    if (args.has("chat")) {
        std::vector<sala::ChatMessage> messages;
        if (auto system = args.value("system")) messages.push_back({"system", *system});
        messages.push_back({"user", text});
        std::string rendered = sala::renderChat(messages, true);
        if (args.has("no-think")) rendered += sala::kNoThinkingPrefill;
        prompt = tokenizer->encode(rendered, true);
    } else {
        prompt = tokenizer->encode(text, true);
    }
    options.stopTokens = (*model)->config.eosTokenIds;
    for (int id : tokenizer->stopIds())
        if (std::find(options.stopTokens.begin(), options.stopTokens.end(), id) ==
            options.stopTokens.end())
            options.stopTokens.push_back(id);

    sala::StreamDecoder decoder(*tokenizer);
    auto onToken = [&](int token) {
        const bool stop = std::find(options.stopTokens.begin(), options.stopTokens.end(), token) !=
                          options.stopTokens.end();
        if (!stop) std::fputs(decoder.push(token).c_str(), stdout);
        std::fflush(stdout);
        return true;
    };
    auto result = sala::generate(**ctx, prompt, options, nullptr, onToken);
    std::fputs(decoder.flush().c_str(), stdout);
    std::fputs("\n", stdout);
    // Stats go to stderr; flushing keeps them after the answer when both go to one pipe.
    std::fflush(stdout);
    if (!result) return fail(result.error().message);
    if (args.has("stats")) {
        const auto& s = result->stats;
        std::fprintf(stderr,
                     "backend=%s prompt_tokens=%lld prefill_s=%.3f prefill_tok_s=%.1f "
                     "generated=%lld decode_tok_s=%.2f\n",
                     (*backend)->name().c_str(), static_cast<long long>(s.promptTokens),
                     s.prefillSeconds, s.prefillTokensPerSecond(),
                     static_cast<long long>(s.generatedTokens), s.decodeTokensPerSecond());
    }
    return 0;
}

} // namespace folio::cli
