// Widgets on their own: rendering of answers, the chat panel driven through its slots (presets,
// stored conversations), the engine panels fed with readouts, the viewers, the settings dialog.
#include "app_icon.h"
#include "chat_message.h"
#include "chat_panel.h"
#include "chat_render.h"
#include "context_meter.h"
#include "conversation_list.h"
#include "conversation_store.h"
#include "document_store.h"
#include "fixtures.h"
#include "library_database.h"
#include "memory_panel.h"
#include "pdf_viewer.h"
#include "settings_dialog.h"
#include "speed_panel.h"
#include "text_viewer.h"

#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QGuiApplication>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QToolButton>

#include <cstdlib>

using namespace folio;

class TestUiWidgets : public QObject {
    Q_OBJECT
private slots:
    void splitsThinking();
    void rendersCodeMonospaced();
    void thinkingCollapsedBehindToggle();
    void chatAskStreamStopRegenerateEdit();
    void chatLoadProgressAndCancel();
    void chatExportsMarkdown();
    void chatPresetsFollowTheDocumentKinds();
    void storedConversationsReopenAndContinue();
    void memoryPanelFromReadouts();
    void memoryPanelTracksResidentDocuments();
    void speedPanelFromStats();
    void contextMeterWarns();
    void textViewerFindsAndShowsPassage();
    void pdfViewerPagesZoomSearch();
    void pdfViewerReportsBadFile();
    void settingsDialogRoundTrip();
    void appIconIsTheThemesElseBuiltIn();
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
    // Copy takes the answer, not the reasoning.
    message.copyButton()->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), QString("Visible answer"));
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
    // The second bar: weights, the document's own memory, the rest of what is used.
    QCOMPARE(panel.contextMiB("doc:1"), 300.0);
    QCOMPARE(panel.contextLegend(), QStringList{"doc:1"});
    // The chart over time stacks the kinds up to the used memory.
    QCOMPARE(panel.historySize(), 1);
    QCOMPARE(panel.historyTopMiB("Weights"), 2048.0);
    QCOMPARE(panel.historyTopMiB("KV cache"), 2560.0);
    QCOMPARE(panel.historyTopMiB("Other"), 3072.0);
    QVERIFY(panel.summary().contains("GPU"));
    MemoryReadout cpu;
    cpu.processRss = 700ull << 20;
    cpu.weights = 400ull << 20;
    panel.update(cpu);
    QVERIFY(panel.cpuBannerShown());
    QVERIFY(panel.summary().contains("Process memory"));
    QCOMPARE(panel.categoryMiB("Other"), 300.0);
    QCOMPARE(panel.historySize(), 2);
    QCOMPARE(panel.historyTopMiB("Other"), 700.0);
    QCOMPARE(panel.contextMiB("doc:1"), -1.0); // no longer resident
}

void TestUiWidgets::memoryPanelTracksResidentDocuments() {
    MemoryPanel panel;
    panel.setContextTitle("doc:2", "Report");
    MemoryReadout r;
    r.processRss = 1000ull << 20;
    r.weights = 400ull << 20;
    r.kvCache = 300ull << 20;
    r.perDocument.insert("doc:1", 100ull << 20);
    r.perDocument.insert("doc:2", 200ull << 20);
    panel.update(r);
    QCOMPARE(panel.contextLegend(), QStringList({"doc:1", "Report"}));
    QCOMPARE(panel.contextMiB("doc:2"), 200.0);
    panel.setContextTitle("doc:1", "Notes");
    QCOMPARE(panel.contextLegend(), QStringList({"Notes", "Report"}));
    // The key names every part that holds memory, with its size.
    const QString key = panel.legendText();
    QVERIFY2(key.contains("Weights") && key.contains("KV cache"), qPrintable(key));
    QVERIFY(key.contains("Report") && key.contains("Notes") && key.contains("200"));
    QVERIFY(!key.contains("Compressed keys")); // nothing there

    // doc:1 evicted, doc:3 loaded: the bar follows.
    r.perDocument.remove("doc:1");
    r.perDocument.insert("doc:3", 50ull << 20);
    panel.update(r);
    QCOMPARE(panel.contextMiB("doc:1"), -1.0);
    QCOMPARE(panel.contextMiB("doc:3"), 50.0);
    QCOMPARE(panel.contextLegend(), QStringList({"Report", "doc:3"}));
    QCOMPARE(panel.historySize(), 2);
    QCOMPARE(panel.historyTopMiB("KV cache"), 700.0);
    QCOMPARE(panel.historyTopMiB("Nonsense"), -1.0);
}

void TestUiWidgets::chatPresetsFollowTheDocumentKinds() {
    ChatPanel chat;
    chat.show();
    auto names = [&chat] {
        QStringList out;
        for (QPushButton* button : chat.presetButtons()) out << button->text();
        return out;
    };
    chat.setTarget("doc:1", "Book", {1}, {"epub"});
    QCOMPARE(names(), QStringList({"Summarize", "Outline the chapters"}));
    chat.setTarget("doc:2", "Repo", {2}, {"code"});
    QCOMPARE(names(), QStringList({"Explain the architecture", "Summarize each module"}));
    chat.setTarget("docs:1,2", "Both", {1, 2}, {"epub", "code"});
    QCOMPARE(names().size(), 4);
    // Without a model the presets wait; with one, a preset asks its question.
    QVERIFY(!chat.presetButtons().first()->isEnabled());
    chat.setTarget("doc:2", "Repo", {2}, {"code"});
    chat.setModelReady(true);
    QSignalSpy ask(&chat, &ChatPanel::askRequested);
    QVERIFY(chat.presetButtons().first()->isEnabled());
    chat.presetButtons().first()->click();
    QCOMPARE(chat.state(), ChatPanel::State::Loading);
    QVERIFY(!chat.presetButtons().first()->isEnabled());
    chat.onContextReady("doc:2", 10, false);
    QCOMPARE(ask.count(), 1);
    QVERIFY(ask.first().at(1).toString().contains("architecture"));
    QCOMPARE(chat.message(0)->rawText(), ask.first().at(1).toString());
}

namespace {

qint64 addDocument(DocumentStore& docs, const QString& title) {
    DocumentRecord record;
    record.title = title;
    record.kind = "text";
    record.sourcePath = "/nowhere/" + title + ".txt";
    record.contentHash = title.toUtf8().toHex();
    ExtractedDocument content;
    content.kind = "text";
    content.title = title;
    content.text = "The text of " + title;
    auto id = docs.save(record, content);
    return id ? *id : 0;
}

void answer(ChatPanel& chat, const QString& key, const QString& text) {
    chat.onAnswerText(key, text);
    chat.onAnswerFinished(key, EngineStats{}, "stop");
}

} // namespace

void TestUiWidgets::storedConversationsReopenAndContinue() {
    QTemporaryDir dir;
    auto db = LibraryDatabase::open(dir.filePath("library.sqlite"));
    QVERIFY(db.ok());
    DocumentStore docs(**db);
    const qint64 a = addDocument(docs, "Alpha"), b = addDocument(docs, "Beta");
    QVERIFY(a > 0 && b > 0);
    const QString keyA = QString("doc:%1").arg(a), keyB = QString("doc:%1").arg(b);
    ChatPanel chat;
    chat.resize(500, 700);
    chat.show();
    chat.setDatabase(db->get());
    chat.setModelReady(true);
    QSignalSpy ask(&chat, &ChatPanel::askRequested);
    ConversationList* list = chat.conversationList();

    chat.setTarget(keyA, "Alpha", {a});
    QCOMPARE(list->count(), 0);
    chat.sendQuestion("First question?");
    chat.onContextReady(keyA, 10, false);
    QVERIFY(ask.last().at(2).value<QList<ChatTurn>>().isEmpty());
    answer(chat, keyA, "<think>hm</think>One.");
    const qint64 first = chat.conversationId();
    QCOMPARE(list->count(), 1);
    QCOMPARE(list->idAt(0), first);
    QVERIFY(list->list()->item(0)->text().endsWith("— First question?"));

    // A second conversation about the same document; the newest is listed first.
    list->newButton()->click();
    QCOMPARE(chat.messageCount(), 0);
    QCOMPARE(chat.conversationId(), 0);
    chat.sendQuestion("Second question?");
    answer(chat, keyA, "Two.");
    const qint64 second = chat.conversationId();
    QVERIFY(second != first);
    QCOMPARE(list->count(), 2);
    QCOMPARE(list->idAt(0), second);

    // Another document has conversations of its own.
    chat.setTarget(keyB, "Beta", {b});
    QCOMPARE(list->count(), 0);

    // Back to the first document: reopen the first conversation by clicking it.
    chat.setTarget(keyA, "Alpha", {a});
    QCOMPARE(list->count(), 2);
    QListWidgetItem* item = list->list()->item(1);
    QTest::mouseClick(list->list()->viewport(), Qt::LeftButton, {},
                      list->list()->visualItemRect(item).center());
    QCOMPARE(chat.conversationId(), first);
    QCOMPARE(chat.messageCount(), 2);
    QCOMPARE(chat.message(0)->rawText(), QString("First question?"));
    QCOMPARE(chat.message(1)->parts().answer, QString("One."));

    // A follow-up continues it: the engine gets the earlier turn, the store the new messages.
    chat.sendQuestion("Why?");
    QCOMPARE(chat.state(), ChatPanel::State::Loading);
    chat.onContextReady(keyA, 10, false);
    const auto history = ask.last().at(2).value<QList<ChatTurn>>();
    QCOMPARE(history.size(), 1);
    QCOMPARE(history[0].question, QString("First question?"));
    QCOMPARE(history[0].answer, QString("One."));
    answer(chat, keyA, "Because.");
    QCOMPARE(chat.conversationId(), first);
    ConversationStore store(**db);
    auto messages = store.messages(first);
    QVERIFY(messages.ok());
    QCOMPARE(int(messages->size()), 4);
    QCOMPARE(messages->at(2).content, QString("Why?"));
    QCOMPARE(list->count(), 2);
    QCOMPARE(list->idAt(0), first); // just updated
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
    EngineStats faster = done;
    faster.decodeTokPerSec = 50;
    panel.addAnswer(faster);
    QCOMPARE(panel.answerCount(), 3);
    QCOMPARE(panel.answerRates(0), QPointF(1000, 42));
    QCOMPARE(panel.answerRates(2), QPointF(1000, 50));
    QVERIFY(panel.ttftText().contains("0.25"));
    QVERIFY(panel.decodeText().contains("50"));
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

void TestUiWidgets::pdfViewerPagesZoomSearch() {
    QTemporaryDir dir;
    const QString path = dir.filePath("two.pdf");
    QVERIFY(fixtures::writePdf(path, "Two pages",
                               {"First page text", "Second page has the needle word"}));
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

void TestUiWidgets::settingsDialogRoundTrip() {
    SettingsValues s;
    s.modelFolder = "/models/sala";
    s.vramBudget = 4096ull << 20;
    s.sampling.seed = 99; // not in the dialog: kept as it came
    s.sampling.systemPrompt = "Be brief.";
    s.dataFolder = "/data/folio";
    SettingsDialog dialog(s);
    QVERIFY(dialog.values() == s);

    // Edits through the widgets come back in the values.
    dialog.backendBox()->setCurrentIndex(dialog.backendBox()->findData("cuda"));
    dialog.modelDirEdit()->setText("  /elsewhere ");
    QSpinBox* chunk = nullptr;
    for (QSpinBox* box : dialog.findChildren<QSpinBox*>())
        if (box->suffix().contains("tokens") && box->maximum() == Settings::kMaxChunk) chunk = box;
    QVERIFY(chunk);
    QCOMPARE(chunk->minimum(), Settings::kMinChunk);
    chunk->setValue(1024);
    const SettingsValues edited = dialog.values();
    QCOMPARE(edited.backend, QString("cuda"));
    QCOMPARE(edited.modelFolder, QString("/elsewhere"));
    QCOMPARE(edited.prefillChunk, 1024);
    QCOMPARE(edited.vramBudget, s.vramBudget);
    QCOMPARE(edited.sampling.seed, quint64(99));
    QCOMPARE(edited.sampling.systemPrompt, QString("Be brief."));
}

namespace {

// The share of the icon's pixels at 64×64 that are opaque and close to `colour`.
double shareOf(const QIcon& icon, QColor colour) {
    const QImage image = icon.pixmap(QSize(64, 64)).toImage();
    if (image.size() != QSize(64, 64)) return -1;
    int matching = 0;
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) {
            const QColor c = image.pixelColor(x, y);
            if (c.alpha() > 200 && std::abs(c.red() - colour.red()) < 8 &&
                std::abs(c.green() - colour.green()) < 8 && std::abs(c.blue() - colour.blue()) < 8)
                ++matching;
        }
    return matching / (64.0 * 64.0);
}

} // namespace

void TestUiWidgets::appIconIsTheThemesElseBuiltIn() {
    const QStringList searchPaths = QIcon::themeSearchPaths();
    const QString themeName = QIcon::themeName();
    QTemporaryDir themes;
    const QString theme = themes.filePath("folio-test");
    QVERIFY(QDir().mkpath(theme + "/64x64/apps"));
    fixtures::writeFile(theme + "/index.theme",
                        "[Icon Theme]\nName=folio-test\nDirectories=64x64/apps\n\n"
                        "[64x64/apps]\nSize=64\nType=Fixed\n");
    QImage red(64, 64, QImage::Format_ARGB32);
    red.fill(Qt::red);
    QVERIFY(red.save(theme + "/64x64/apps/folio.png"));

    // No theme has it (a build folder, an unusual prefix): the SVG built into the program,
    // drawn, so the SVG icon engine is there.
    QIcon::setThemeSearchPaths({themes.filePath("none")});
    const QIcon builtIn = appIcon();
    QVERIFY(!builtIn.isNull());
    const QImage drawn = builtIn.pixmap(QSize(64, 64)).toImage();
    QCOMPARE(drawn.size(), QSize(64, 64));
    int opaque = 0;
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) opaque += drawn.pixelColor(x, y).alpha() > 0;
    QVERIFY2(opaque > 64 * 64 / 4, qPrintable(QString::number(opaque)));
    QVERIFY(shareOf(builtIn, Qt::red) < 0.5);

    // The theme's icon comes first, as the one an install puts in hicolor.
    QIcon::setThemeSearchPaths({themes.path()});
    QIcon::setThemeName("folio-test");
    const double themed = shareOf(appIcon(), Qt::red);
    QIcon::setThemeName(themeName);
    QIcon::setThemeSearchPaths(searchPaths);
    QVERIFY2(themed > 0.99, qPrintable(QString::number(themed)));
}

QTEST_MAIN(TestUiWidgets)
#include "test_ui_widgets.moc"
