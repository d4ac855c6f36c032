#include "engine_state.h"

#include "system_memory.h"

#include "chat_format.h"
#include "memory_plan.h"

#include <QCryptographicHash>
#include <QDir>
#include <QThread>

#include <algorithm>

#ifdef FOLIO_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace folio {

namespace {

// Special-token strings inside user text would be parsed as real tokens and could end the turn
// early (think of an imported codebase that handles chat templates); a zero-width space keeps
// them literal.
std::string literalText(const QString& text) {
    QString safe = text;
    safe.replace(QLatin1String("<|"), QStringLiteral("<\u200B|"));
    safe.replace(QLatin1String("<s>"), QStringLiteral("<\u200Bs>"));
    safe.replace(QLatin1String("</s>"), QStringLiteral("<\u200B/s>"));
    return safe.toStdString();
}

#ifdef FOLIO_HAVE_CUDA
const sala::cuda::CudaBackend* asCuda(const sala::Backend& backend) {
    return dynamic_cast<const sala::cuda::CudaBackend*>(&backend);
}
#endif

uint64_t linearStateBytes(const sala::ModelConfig& c) {
    return uint64_t(c.numLightningLayers()) * c.lightningHeads * c.lightningHeadDim *
           c.lightningHeadDim * sizeof(float);
}

// The CPU backend keeps keys and values in f32, twice the bf16 figure of the plan.
uint64_t cpuBytesPerToken(const sala::ModelConfig& c) {
    return 2 * sala::contextBytesPerToken(c);
}

} // namespace

bool EngineState::isStopToken(int id) const {
    return std::find(stopTokens.begin(), stopTokens.end(), id) != stopTokens.end();
}

std::vector<int> documentPrefix(const sala::Tokenizer& tokenizer, const QString& systemPrompt,
                                const QString& document) {
    std::string text;
    if (!systemPrompt.isEmpty())
        text += "<|im_start|>system\n" + literalText(systemPrompt) + "<|im_end|>\n";
    text += "<|im_start|>user\n" + literalText(document);
    return tokenizer.encode(text, true);
}

std::vector<int> questionTokens(const sala::Tokenizer& tokenizer, const QList<ChatTurn>& history,
                                const QString& question, bool noThinking) {
    std::string text = "\n\n";
    for (const ChatTurn& turn : history)
        text += literalText(turn.question) + "<|im_end|>\n<|im_start|>assistant\n" +
                literalText(turn.answer) + "<|im_end|>\n<|im_start|>user\n";
    text += literalText(question) + "<|im_end|>\n<|im_start|>assistant\n";
    if (noThinking) text += sala::kNoThinkingPrefill;
    std::vector<int> ids = tokenizer.encode(text, false);
    // Encoding on its own puts a word-start marker in front; after the document there is none.
    const int marker = tokenizer.pieceId("\xE2\x96\x81");
    if (!ids.empty() && marker >= 0 && ids.front() == marker) ids.erase(ids.begin());
    return ids;
}

qint64 contextCapacity(const sala::Backend& backend) {
#ifdef FOLIO_HAVE_CUDA
    if (const auto* cuda = asCuda(backend)) return cuda->plan().maxTokens;
#endif
    const sala::ModelConfig& c = backend.model().config;
    const uint64_t perToken = cpuBytesPerToken(c);
    const uint64_t available = availableSystemMemory();
    qint64 byMemory = c.maxPositionEmbeddings > 0 ? c.maxPositionEmbeddings : (qint64(1) << 40);
    // Leave a quarter of the free memory to the rest of the system.
    if (available > 0 && perToken > 0) byMemory = qint64(available / 4 * 3 / perToken);
    return c.maxPositionEmbeddings > 0 ? std::min<qint64>(c.maxPositionEmbeddings, byMemory)
                                       : byMemory;
}

quint64 defaultContextBudget(const sala::Backend& backend) {
#ifdef FOLIO_HAVE_CUDA
    if (const auto* cuda = asCuda(backend)) {
        const sala::MemoryPlan& p = cuda->plan();
        return p.budget > p.weights + sala::MemoryPlanOptions{}.reserve
                   ? p.budget - p.weights - sala::MemoryPlanOptions{}.reserve
                   : 0;
    }
#endif
    (void)backend;
    return availableSystemMemory() / 4 * 3;
}

quint64 estimateContextBytes(const sala::Backend& backend, qint64 tokens) {
    const sala::ModelConfig& c = backend.model().config;
    const uint64_t state = 2 * linearStateBytes(c); // live state and the checkpoint's copy
#ifdef FOLIO_HAVE_CUDA
    if (const auto* cuda = asCuda(backend))
        return uint64_t(tokens) * sala::contextBytesPerToken(c) + state +
               sala::chunkWorkspaceBytes(c, cuda->options().prefillChunk);
#endif
    return uint64_t(tokens) * cpuBytesPerToken(c) + state;
}

quint64 ownBytes(const sala::MemoryReport& report) {
    return report.total() - report.weights;
}

QByteArray contentHash(const QString& systemPrompt, const QString& document) {
    QCryptographicHash hash(QCryptographicHash::Sha1);
    hash.addData(systemPrompt.toUtf8());
    hash.addData(QByteArrayView("\0", 1));
    hash.addData(document.toUtf8());
    return hash.result().toHex().left(16);
}

QString snapshotPath(const QString& dir, const QString& key, quint64 fingerprint,
                     const QByteArray& hash) {
    QString safeKey;
    for (QChar ch : key)
        safeKey += (ch.isLetterOrNumber() && ch.unicode() < 128) || ch == u'-' ? ch : QChar(u'_');
    const QString name = QStringLiteral("%1-%2-%3.salactx")
                             .arg(safeKey.left(80))
                             .arg(fingerprint, 16, 16, QChar(u'0'))
                             .arg(QString::fromLatin1(hash));
    return QDir(dir).filePath(name);
}

QString deviceDescription(const sala::Backend& backend) {
#ifdef FOLIO_HAVE_CUDA
    if (const auto* cuda = asCuda(backend)) return QString::fromStdString(cuda->deviceName());
#endif
    (void)backend;
    return QStringLiteral("CPU (%1 threads)").arg(QThread::idealThreadCount());
}

} // namespace folio
