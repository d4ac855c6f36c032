// The main window's chat and engine wiring: questions, answers, panels, citations.
#include "chat_panel.h"
#include "citation_locator.h"
#include "context_meter.h"
#include "document_store.h"
#include "document_view.h"
#include "import_runner.h"
#include "main_window.h"
#include "memory_panel.h"
#include "speed_panel.h"

#include <QLabel>
#include <QStatusBar>
#include <QUrlQuery>

namespace folio {

void MainWindow::connectEngine() {
    EngineController* e = engine_;
    connect(chat_, &ChatPanel::loadRequested, this, &MainWindow::loadContext);
    connect(chat_, &ChatPanel::askRequested, this,
            [this](const QString& key, const QString& q, const QList<ChatTurn>& history) {
                engine_->ask(key, q, values_.sampling, history);
            });
    connect(chat_, &ChatPanel::stopRequested, e, &EngineController::requestStop);
    connect(chat_, &ChatPanel::cancelLoadRequested, e, &EngineController::requestCancel);
    connect(chat_, &ChatPanel::answerCompleted, this, &MainWindow::linkCitations);
    connect(chat_, &ChatPanel::linkActivated, this, &MainWindow::openLink);

    connect(e, &EngineController::contextProgress, chat_, &ChatPanel::onContextProgress);
    connect(e, &EngineController::contextReady, chat_, &ChatPanel::onContextReady);
    connect(e, &EngineController::contextFailed, chat_, &ChatPanel::onContextFailed);
    connect(e, &EngineController::answerStarted, chat_, &ChatPanel::onAnswerStarted);
    connect(e, &EngineController::answerText, chat_, &ChatPanel::onAnswerText);
    connect(e, &EngineController::answerFinished, chat_, &ChatPanel::onAnswerFinished);
    connect(e, &EngineController::answerFailed, chat_, &ChatPanel::onAnswerFailed);
    connect(e, &EngineController::memoryUpdated, memory_, &MemoryPanel::update);
    connect(e, &EngineController::memoryUpdated, this,
            [this](const MemoryReadout& r) { speed_->setCpuBanner(!r.gpu); });
    connect(e, &EngineController::speedUpdated, speed_, &SpeedPanel::updateLive);
    connect(e, &EngineController::contextReady, this, [this](const QString&, qint64 tokens, bool) {
        contextTokens_ = tokens;
        meter_->setUsed(tokens);
    });
    connect(e, &EngineController::answerFinished, this,
            [this](const QString&, const EngineStats& stats, const QString&) {
                speed_->addAnswer(stats);
                // The prompt count may or may not include the resident document.
                const qint64 prompt = stats.promptTokens >= contextTokens_
                                          ? stats.promptTokens
                                          : contextTokens_ + stats.promptTokens;
                meter_->setUsed(prompt + stats.generatedTokens);
            });
    connectModelLoading();
    connect(e, &EngineController::modelLoaded, this, [this](const ModelInfo& info) {
        showModelLoading(false);
        modelInfo_ = info;
        modelReady_ = true;
        meter_->setCapacity(info.contextCapacity);
        const bool cpu = info.backendName.compare(QLatin1String("cpu"), Qt::CaseInsensitive) == 0;
        speed_->setCpuBanner(cpu);
        modelLabel_->setText(
            info.isDemo ? tr("Model: demo · %1 · %2").arg(info.backendName, info.deviceName)
                        : tr("Model: %1 · %2").arg(info.backendName, info.deviceName));
        demoBanner_->setVisible(info.isDemo);
        chat_->setModelReady(true);
        statusBar()->showMessage(tr("Model loaded from %1").arg(info.dir), 5000);
    });
    connect(e, &EngineController::modelFailed, this, [this](const QString& message) {
        showModelLoading(false);
        modelReady_ = false;
        chat_->setModelReady(false);
        modelLabel_->setText(tr("Model: not loaded"));
        if (message == QLatin1String("cancelled"))
            statusBar()->showMessage(
                tr("Loading the model was cancelled. File › Load model loads it again."));
        else
            statusBar()->showMessage(tr("The model could not be loaded: %1").arg(message));
    });
}

void MainWindow::chatAbout(const QList<qint64>& ids) {
    if (!docs_ || ids.isEmpty()) return;
    QList<qint64> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    QStringList idText, titles, kinds;
    qint64 tokens = 0;
    for (qint64 id : sorted) {
        idText << QString::number(id);
        auto record = docs_->document(id);
        if (record && record->has_value()) {
            titles << (*record)->title;
            kinds << (*record)->kind;
            tokens += qMax<qint64>(0, (*record)->tokenCount);
        }
    }
    const QString key = sorted.size() == 1 ? QStringLiteral("doc:%1").arg(sorted.first())
                                           : QStringLiteral("docs:%1").arg(idText.join(','));
    if (key == chat_->targetKey()) return;
    chatDocuments_ = sorted;
    const QString title = titles.size() <= 2 ? titles.join(QStringLiteral(", "))
                                             : tr("%1 documents").arg(titles.size());
    chat_->setTarget(key, title, sorted, kinds);
    memory_->setContextTitle(key, title);
    meter_->setUsed(tokens);
}

void MainWindow::loadContext(const QString& key) {
    if (!docs_ || key != chat_->targetKey()) return;
    QString text;
    qint64 tokens = 0;
    for (qint64 id : chatDocuments_) {
        auto record = docs_->document(id);
        auto body = docs_->text(id);
        if (!record || !record->has_value() || !body) {
            chat_->onContextFailed(key,
                                   tr("document %1 could not be read from the library").arg(id));
            return;
        }
        tokens += qMax<qint64>(0, (*record)->tokenCount);
        if (chatDocuments_.size() > 1) text += QStringLiteral("## %1\n\n").arg((*record)->title);
        text += *body + QStringLiteral("\n\n");
    }
    meter_->setUsed(tokens);
    // Too long for the model: say so and load nothing, rather than cut the documents short.
    if (modelInfo_.contextCapacity > 0 && tokens > modelInfo_.contextCapacity) {
        chat_->onContextFailed(key, tr("the documents need %L1 tokens but the model holds %L2; "
                                       "choose fewer documents")
                                        .arg(tokens)
                                        .arg(modelInfo_.contextCapacity));
        return;
    }
    engine_->openContext(key, text.trimmed());
}

// Each quote links to the first document of the chat that contains it.
void MainWindow::linkCitations(int messageIndex, const QString& answer) {
    if (!docs_) return;
    const QList<Quote> quotes = CitationLocator::extractQuotes(answer);
    if (quotes.isEmpty()) return;
    QList<QuoteLink> links;
    QList<bool> linked(quotes.size(), false);
    for (qint64 id : chatDocuments_) {
        auto text = docs_->text(id);
        if (!text) continue;
        const CitationLocator locator(*text);
        for (int i = 0; i < quotes.size(); ++i) {
            if (linked[i]) continue;
            const Citation c = locator.locateQuote(quotes[i]);
            if (!c.found()) continue;
            linked[i] = true;
            links.append({quotes[i].text, QStringLiteral("folio://doc/%1?start=%2&end=%3")
                                              .arg(id)
                                              .arg(c.documentStart)
                                              .arg(c.documentStart + c.documentLength)});
        }
    }
    if (!links.isEmpty()) chat_->setMessageLinks(messageIndex, links);
}

bool MainWindow::openLink(const QUrl& url) {
    if (url.scheme() != QLatin1String("folio") || url.host() != QLatin1String("doc")) return false;
    bool ok = false;
    const qint64 id = url.path().mid(1).toLongLong(&ok);
    const QUrlQuery query(url);
    const qint64 start = query.queryItemValue(QStringLiteral("start")).toLongLong();
    const qint64 end = query.queryItemValue(QStringLiteral("end")).toLongLong();
    if (!ok || !openDocument(id)) return false;
    return documents_->showPassage(id, start, end);
}

bool MainWindow::exportConversation(const QString& path, QString* error) {
    QString message;
    const bool ok = chat_->exportMarkdown(path, &message);
    statusBar()->showMessage(ok ? tr("Conversation exported to %1").arg(path) : message, 8000);
    if (error) *error = message;
    return ok;
}

} // namespace folio
