// Widgets on their own: rendering of answers, the chat panel driven through its slots, the
// engine panels fed with readouts, the viewers, the settings.
#include "chat_message.h"
#include "chat_panel.h"
#include "chat_render.h"
#include "context_meter.h"
#include "memory_panel.h"
#include "pdf_viewer.h"
#include "quote_finder.h"
#include "settings_dialog.h"
#include "speed_panel.h"
#include "text_viewer.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QPdfWriter>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QToolButton>

using namespace folio;

class TestUiWidgets : public QObject {
    Q_OBJECT
private slots:
    void splitsThinking();
    void rendersCodeMonospaced();
    void thinkingCollapsedBehindToggle();
    void findsQuotes();
    void chatAskStreamStopRegenerateEdit();
    void chatLoadProgressAndCancel();
    void chatExportsMarkdown();
    void memoryPanelFromReadouts();
    void speedPanelFromStats();
    void contextMeterWarns();
    void textViewerFindsAndShowsPassage();
    void pdfViewerPagesZoomSearch();
    void pdfViewerReportsBadFile();
    void settingsPersistAndDialogRoundTrip();
    void modelFolderProblems();
};

void TestUiWidgets::splitsThinking() {
    const SplitAnswer done = splitThinking("<think>weigh it</think>\nThe answer.");
    QVERIFY(done.hasThinking);
    QVERIFY(!done.thinkingOpen);
    QCOMPARE(done.thinking, QString("weigh it"));
    QCOMPARE(done.answer, QString("The answer."));
    const SplitAnswer streaming = splitThinking("<think>still going");
    QVERIFY(streaming.thinkingOpen);
    QCOMPARE(streaming.answer, QString());
    const SplitAnswer none = splitThinking("plain");
    QVERIFY(!none.hasThinking);
    QCOMPARE(none.answer, QString("plain"));
}

void TestUiWidgets::rendersCodeMonospaced() {
    QTextDocument doc;
    renderMarkdown(&doc, "Text **bold**\n\n```cpp\nint x = 1;\n```\n");
    bool sawCode = false;
    for (QTextBlock b = doc.begin(); b.isValid(); b = b.next()) {
        if (b.text().contains("int x")) {
            sawCode = true;
            QTextCursor c(b);
            c.movePosition(QTextCursor::NextCharacter);
            QVERIFY(c.charFormat().fontFixedPitch() ||
                    QFontInfo(c.charFormat().font()).fixedPitch());
        }
    }
    QVERIFY(sawCode);
    QVERIFY(!doc.toPlainText().contains("**"));
}

void TestUiWidgets::thinkingCollapsedBehindToggle() {
    ChatMessage message("assistant", "<think>private reasoning</think>Visible answer");
    message.show();
    QVERIFY(message.thinkingToggle()->isVisible());
    QVERIFY(!message.thinkingView()->isVisible());
    QVERIFY(!message.body()->toPlainText().contains("private reasoning"));
    QVERIFY(message.body()->toPlainText().contains("Visible answer"));
    message.thinkingToggle()->click();
    QVERIFY(message.thinkingView()->isVisible());
    QVERIFY(message.thinkingView()->toPlainText().contains("private reasoning"));
}

void TestUiWidgets::findsQuotes() {
    const QStringList quotes =
        extractQuotes("It says \"the quick brown fox jumps\" and\n> over the lazy dog today\n"
                      "but \"short\" is ignored.");
    QCOMPARE(quotes, QStringList({"the quick brown fox jumps", "over the lazy dog today"}));
    const QString text = "Once: The  Quick\nbrown fox jumps over the lazy dog today.";
    const QuoteMatch exact = locateQuote(text, "over the lazy dog today");
    QCOMPARE(text.mid(exact.start, exact.end - exact.start), QString("over the lazy dog today"));
    const QuoteMatch loose = locateQuote(text, "the quick brown fox jumps");
    QVERIFY(loose.start >= 0);
    QCOMPARE(text.mid(loose.start, loose.end - loose.start),
             QString("The  Quick\nbrown fox jumps"));
    QCOMPARE(locateQuote(text, "not in there at all").start, -1);
}

void TestUiWidgets::chatAskStreamStopRegenerateEdit() {
    ChatPanel chat;
    chat.show();
    QSignalSpy load(&chat, &ChatPanel::loadRequested);
    QSignalSpy ask(&chat, &ChatPanel::askRequested);
    QSignalSpy stop(&chat, &ChatPanel::stopRequested);
    chat.setTarget("doc:1", "Doc", {1});
    QCOMPARE(chat.state(), ChatPanel::State::NoModel);
    chat.sendQuestion("ignored without a model");
    QCOMPARE(chat.messageCount(), 0);
    chat.setModelReady(true);
    chat.sendQuestion("What is it?");
    QCOMPARE(load.count(), 1);
    QCOMPARE(chat.state(), ChatPanel::State::Loading);
    chat.onContextReady("doc:1", 100, false);
    QCOMPARE(ask.count(), 1);
    QCOMPARE(ask.at(0).at(1).toString(), QString("What is it?"));
    QCOMPARE(chat.state(), ChatPanel::State::Answering);
    QVERIFY(!chat.sendButton()->isEnabled());
    chat.onAnswerText("doc:1", "It is ");
    chat.onAnswerText("doc:2", "wrong key ");
    chat.onAnswerText("doc:1", "a test.");
    chat.stopButton()->click();
    QCOMPARE(stop.count(), 1);
    chat.onAnswerFinished("doc:1", EngineStats{}, "stopped");
    QCOMPARE(chat.messageCount(), 2);
    QCOMPARE(chat.message(1)->rawText(), QString("It is a test."));
    QVERIFY(chat.message(1)->note().contains("stopped"));
    // Regenerate replaces the answer without loading again.
    chat.regenerateButton()->click();
    QCOMPARE(load.count(), 1);
    QCOMPARE(ask.count(), 2);
    QCOMPARE(chat.messageCount(), 2);
    QCOMPARE(chat.message(1)->rawText(), QString());
    chat.onAnswerText("doc:1", "Second.");
    chat.onAnswerFinished("doc:1", EngineStats{}, "stop");
    QVERIFY(!chat.message(1)->note().contains("stopped"));
    // Edit takes the last question back into the input.
    QVERIFY(!chat.message(0)->editButton()->isHidden());
    QVERIFY(chat.message(0)->editButton()->isEnabled());
    chat.message(0)->editButton()->click();
    QCOMPARE(chat.messageCount(), 0);
    QCOMPARE(chat.input()->toPlainText(), QString("What is it?"));
    chat.input()->setPlainText("What is it really?");
    chat.sendButton()->click();
    QCOMPARE(ask.count(), 3);
    QCOMPARE(ask.at(2).at(1).toString(), QString("What is it really?"));
}

void TestUiWidgets::chatLoadProgressAndCancel() {
    ChatPanel chat;
    chat.show();
    QSignalSpy cancel(&chat, &ChatPanel::cancelLoadRequested);
    chat.setModelReady(true);
    chat.setTarget("doc:7", "Big", {7});
    chat.sendQuestion("Summarize");
    chat.onContextProgress("doc:7", 250, 1000, 50.0);
    QCOMPARE(chat.loadProgress()->value(), 250);
    QVERIFY(chat.loadProgress()->isVisible());
    QVERIFY(chat.loadLabel()->text().contains("250"));
    QVERIFY(chat.loadLabel()->text().contains("1,000") ||
            chat.loadLabel()->text().contains("1000"));
    QVERIFY(chat.loadLabel()->text().contains("15 s")); // 750 tokens at 50 tok/s
    chat.stop();
    QCOMPARE(cancel.count(), 1);
    chat.onContextFailed("doc:7", "cancelled");
    QCOMPARE(chat.state(), ChatPanel::State::Unloaded);
    QCOMPARE(chat.messageCount(), 0);
    QCOMPARE(chat.input()->toPlainText(), QString("Summarize"));
}

void TestUiWidgets::chatExportsMarkdown() {
    ChatPanel chat;
    chat.setModelReady(true);
    chat.setTarget("doc:1", "Report", {1});
    chat.sendQuestion("Q1?");
    chat.onContextReady("doc:1", 10, false);
    chat.onAnswerText("doc:1", "<think>hmm</think>**A1** `code`");
    chat.onAnswerFinished("doc:1", EngineStats{}, "stop");
    QTemporaryDir dir;
    const QString path = dir.filePath("chat.md");
    QString error;
    QVERIFY2(chat.exportMarkdown(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString md = QString::fromUtf8(file.readAll());
    QVERIFY(md.startsWith("# Report"));
    QVERIFY(md.indexOf("Q1?") < md.indexOf("**A1** `code`"));
    QVERIFY(md.contains("<summary>Reasoning</summary>"));
    QVERIFY(!chat.exportMarkdown(dir.filePath("no/such/dir/x.md"), &error));
    QVERIFY(error.contains("x.md"));
}

void TestUiWidgets::memoryPanelFromReadouts() {
    MemoryPanel panel;
    panel.show();
    MemoryReadout gpu;
    gpu.gpu = true;
    gpu.deviceTotal = 8ull << 30;
    gpu.deviceFree = 5ull << 30;
    gpu.weights = 2ull << 30;
    gpu.kvCache = 512ull << 20;
    gpu.perDocument.insert("doc:1", 300ull << 20);
    panel.update(gpu);
    QVERIFY(!panel.cpuBannerShown());
    QCOMPARE(panel.categoryMiB("Weights"), 2048.0);
    QCOMPARE(panel.categoryMiB("KV cache"), 512.0);
    QCOMPARE(panel.categoryMiB("Free"), 5120.0);
    QCOMPARE(panel.categoryMiB("Other"), 3072.0 - 2048.0 - 512.0);
    QVERIFY(panel.perDocumentText().contains("doc:1"));
    MemoryReadout cpu;
    cpu.processRss = 700ull << 20;
    cpu.weights = 400ull << 20;
    panel.update(cpu);
    QVERIFY(panel.cpuBannerShown());
    QVERIFY(panel.summary().contains("Process memory"));
    QCOMPARE(panel.categoryMiB("Other"), 300.0);
    QCOMPARE(panel.historySize(), 2);
}

void TestUiWidgets::speedPanelFromStats() {
    SpeedPanel panel;
    EngineStats live;
    live.prefillTokPerSec = 1234.5;
    panel.updateLive(live);
    QVERIFY(panel.prefillText().contains("1234.5"));
    QCOMPARE(panel.decodeText(), QString("–"));
    EngineStats done;
    done.ttftSeconds = 0.25;
    done.prefillTokPerSec = 1000;
    done.decodeTokPerSec = 42;
    panel.addAnswer(done);
    panel.addAnswer(done);
    QCOMPARE(panel.answerCount(), 2);
    QVERIFY(panel.ttftText().contains("0.25"));
    QVERIFY(panel.decodeText().contains("42"));
}

void TestUiWidgets::contextMeterWarns() {
    ContextMeter meter;
    meter.setCapacity(1000);
    meter.setUsed(400);
    QVERIFY(!meter.overCapacity());
    QVERIFY(meter.text().contains("400"));
    meter.setUsed(1500);
    QVERIFY(meter.overCapacity());
    QVERIFY(meter.text().contains("over capacity"));
}

void TestUiWidgets::textViewerFindsAndShowsPassage() {
    TextViewer viewer;
    viewer.setText("alpha\nbeta Alpha\ngamma\n", true);
    QCOMPARE(viewer.find("alpha"), 2);
    QCOMPARE(viewer.editor()->extraSelections().size(), 2);
    QCOMPARE(viewer.find(""), 0);
    viewer.showPassage(11, 16); // "Alpha"
    QCOMPARE(viewer.currentLine(), 2);
    QCOMPARE(viewer.editor()->extraSelections().size(), 1);
    QCOMPARE(viewer.editor()->extraSelections().first().cursor.selectedText(), QString("Alpha"));
    QVERIFY(viewer.editor()->gutterWidth() > 0);
}

static void writePdf(const QString& path, const QStringList& pages) {
    QPdfWriter writer(path);
    QPainter painter(&writer);
    QFont font = painter.font();
    font.setPointSize(14);
    painter.setFont(font);
    for (int i = 0; i < pages.size(); ++i) {
        if (i > 0) writer.newPage();
        painter.drawText(QPointF(200, 600), pages[i]);
    }
}

void TestUiWidgets::pdfViewerPagesZoomSearch() {
    QTemporaryDir dir;
    const QString path = dir.filePath("two.pdf");
    writePdf(path, {"First page text", "Second page has the needle word"});
    PdfViewer viewer;
    QString error;
    QVERIFY2(viewer.open(path, &error), qPrintable(error));
    QCOMPARE(viewer.pageCount(), 2);
    const QSize small = viewer.renderedPage().size();
    viewer.setZoom(2.0);
    QVERIFY(viewer.renderedPage().width() > small.width() * 1.5);
    QCOMPARE(viewer.find("needle"), 1);
    QCOMPARE(viewer.currentPage(), 1);
    QCOMPARE(viewer.highlightCount(), 1);
    viewer.setPage(0);
    QCOMPARE(viewer.highlightCount(), 0);
    QVERIFY(viewer.showPassage(0, "First page") >= 1);
}

void TestUiWidgets::pdfViewerReportsBadFile() {
    QTemporaryDir dir;
    QFile junk(dir.filePath("junk.pdf"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("not a pdf");
    junk.close();
    PdfViewer viewer;
    QString error;
    QVERIFY(!viewer.open(junk.fileName(), &error));
    QVERIFY(error.contains("junk.pdf"));
    QCOMPARE(viewer.pageCount(), 0);
    viewer.setPage(3); // harmless without a document
}

void TestUiWidgets::settingsPersistAndDialogRoundTrip() {
    QTemporaryDir dir;
    const QString ini = dir.filePath("folio.ini");
    UiSettings s;
    s.modelDir = dir.path();
    s.backend = "cpu";
    s.vramBudgetMiB = 4096;
    s.prefillChunk = 512;
    s.sampling.temperature = 0.3;
    s.sampling.topK = 40;
    s.sampling.maxTokens = 77;
    s.sampling.noThinking = true;
    s.sampling.systemPrompt = "Be brief.";
    s.dataDir = dir.filePath("data");
    {
        QSettings store(ini, QSettings::IniFormat);
        s.save(store);
    }
    QSettings store(ini, QSettings::IniFormat);
    const UiSettings back = UiSettings::load(store);
    QCOMPARE(back.backend, QString("cpu"));
    QCOMPARE(back.vramBudgetMiB, 4096);
    QCOMPARE(back.prefillChunk, 512);
    QCOMPARE(back.sampling.temperature, 0.3);
    QCOMPARE(back.sampling.topK, 40);
    QCOMPARE(back.sampling.maxTokens, 77);
    QVERIFY(back.sampling.noThinking);
    QCOMPARE(back.sampling.systemPrompt, QString("Be brief."));
    QCOMPARE(back.dataDir, s.dataDir);

    SettingsDialog dialog(back);
    QCOMPARE(dialog.settings().sampling.maxTokens, 77);
    dialog.backendBox()->setCurrentIndex(dialog.backendBox()->findData("cuda"));
    dialog.modelDirEdit()->setText("/elsewhere");
    const UiSettings edited = dialog.settings();
    QCOMPARE(edited.backend, QString("cuda"));
    QCOMPARE(edited.modelDir, QString("/elsewhere"));
    QCOMPARE(edited.sampling.systemPrompt, QString("Be brief."));
}

void TestUiWidgets::modelFolderProblems() {
    QTemporaryDir dir;
    QVERIFY(modelFolderProblem("").contains("No model folder"));
    QVERIFY(modelFolderProblem(dir.filePath("nope")).contains("does not exist"));
    QVERIFY(modelFolderProblem(dir.path()).contains("config.json"));
    for (const char* name : {"config.json", "tokenizer.model", "model.safetensors"}) {
        QFile f(dir.filePath(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
    }
    QCOMPARE(modelFolderProblem(dir.path()), QString());
}

QTEST_MAIN(TestUiWidgets)
#include "test_ui_widgets.moc"
