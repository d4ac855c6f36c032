// Answering a question about a resident context: back to the document checkpoint, then a
// streamed generation.

// Before any Qt header: the decoder has a member named `emit`, which Qt defines as a macro.
#include "stream_decoder.h"

#include "engine_state.h"
#include "engine_worker.h"
#include "generator.h"

#include <QElapsedTimer>

#include <algorithm>

namespace folio {

namespace {

sala::SamplingParams samplingOf(const AskOptions& o) {
    sala::SamplingParams p;
    p.temperature = float(o.temperature);
    p.topK = o.topK;
    p.topP = float(o.topP);
    p.minP = float(o.minP);
    p.repetitionPenalty = float(o.repetitionPenalty);
    p.seed = o.seed;
    return p;
}

QString stopReasonName(sala::StopReason reason) {
    switch (reason) {
    case sala::StopReason::StopToken:
        return QStringLiteral("stop");
    case sala::StopReason::MaxTokens:
        return QStringLiteral("length");
    case sala::StopReason::Stopped:
        return QStringLiteral("stopped");
    }
    return QStringLiteral("stop");
}

QString message(const sala::Error& error) {
    return QString::fromStdString(error.message);
}

} // namespace

void EngineWorker::ask(const QString& key, const QString& question,
                       const folio::AskOptions& options, const QList<folio::ChatTurn>& history) {
    stopRequested_.store(false);
    EngineState& s = *state_;
    if (!s.loaded()) {
        emit answerFailed(key, QStringLiteral("No model is loaded."));
        return;
    }
    if (!options.systemPrompt.isEmpty()) s.systemPrompt = options.systemPrompt;
    ResidentEntry* entry = s.contexts.find(key);
    if (!entry) {
        emit answerFailed(key, QStringLiteral("The document is not loaded; open it first."));
        return;
    }
    if (!entry->context || entry->systemPrompt != s.systemPrompt) {
        // Evicted (comes back from its snapshot) or prefixed by another system turn.
        cancelRequested_.store(false);
        const QString text = entry->documentText; // the entry is replaced while building
        if (!buildContext(key, text, s.systemPrompt)) {
            emit answerFailed(key, QStringLiteral("The document could not be loaded again."));
            return;
        }
        entry = s.contexts.find(key);
    }
    s.contexts.touch(*entry);
    sala::Context& context = *entry->context;
    QElapsedTimer clock;
    clock.start();
    if (const sala::Status back = context.rollback(entry->checkpoint); !back) {
        emit answerFailed(key, message(back.error()));
        return;
    }
    const std::vector<int> prompt =
        questionTokens(*s.tokenizer, history, question, options.noThinking);
    const qint64 room = s.info.contextCapacity - context.position() - qint64(prompt.size());
    if (room <= 0) {
        emit answerFailed(key, QStringLiteral("The question does not fit in the context: the "
                                              "document and question need %1 tokens, the limit is "
                                              "%2.")
                                   .arg(context.position() + qint64(prompt.size()))
                                   .arg(s.info.contextCapacity));
        return;
    }
    sala::GenerationOptions generation;
    generation.sampling = samplingOf(options);
    generation.maxTokens = int(std::min<qint64>(std::max(options.maxTokens, 0), room));
    generation.stopTokens = s.stopTokens;
    generation.prefillChunk = s.prefillChunk;
    if (const sala::Status valid = sala::validate(generation.sampling); !valid) {
        emit answerFailed(key, message(valid.error()));
        return;
    }

    emit answerStarted(key);
    sala::StreamDecoder decoder(*s.tokenizer);
    EngineStats live;
    live.promptTokens = qint64(prompt.size());
    qint64 decodeStartMs = -1, lastReportMs = 0;
    auto onToken = [&](int token) {
        const qint64 now = clock.elapsed();
        if (decodeStartMs < 0) {
            decodeStartMs = now;
            live.ttftSeconds = now / 1000.0;
        }
        ++live.generatedTokens;
        if (!s.isStopToken(token)) {
            const std::string piece = decoder.push(token);
            if (!piece.empty()) emit answerText(key, QString::fromStdString(piece));
        }
        if (now - lastReportMs >= 250) {
            lastReportMs = now;
            const qint64 decodeMs = now - decodeStartMs;
            live.decodeTokPerSec =
                decodeMs > 0 ? (live.generatedTokens - 1) * 1000.0 / decodeMs : 0.0;
            emit speedUpdated(live);
        }
        return !stopRequested_.load();
    };
    auto prefillProgress = [&](int64_t, int64_t) { return !stopRequested_.load(); };
    auto result = sala::generate(context, prompt, generation, prefillProgress, onToken);
    const std::string tail = decoder.flush();
    if (!tail.empty()) emit answerText(key, QString::fromStdString(tail));

    if (!result && result.error().code == sala::ErrorCode::Cancelled) {
        // Stopped while the question itself was still going in.
        live.generatedTokens = 0;
        emit answerFinished(key, live, QStringLiteral("stopped"));
    } else if (!result) {
        emit answerFailed(key, message(result.error()));
    } else {
        const sala::GenerationStats& g = result->stats;
        EngineStats stats;
        stats.ttftSeconds = live.ttftSeconds;
        stats.prefillTokPerSec = g.prefillTokensPerSecond();
        stats.decodeTokPerSec = g.decodeTokensPerSecond();
        stats.promptTokens = g.promptTokens;
        stats.generatedTokens = g.generatedTokens;
        emit speedUpdated(stats);
        emit answerFinished(key, stats, stopReasonName(result->reason));
    }
    entry->bytes = ownBytes(context.memory());
    emitMemory();
}

} // namespace folio
