// The main window end to end on the CPU backend with a tiny random model: imports of a text file,
// a PDF, an EPUB and a source tree; a question about each with streamed answers and the panels
// following the engine; stop, regenerate, export, citation links, stored conversations reopened
// and continued; the demo model's banner and the sample documents; screenshots of the main states.
#include "chat_message.h"
#include "chat_panel.h"
#include "context_meter.h"
#include "conversation_list.h"
#include "conversation_store.h"
#include "document_view.h"
#include "fixtures.h"
#include "library_database.h"
#include "library_model.h"
#include "main_window.h"
#include "memory_panel.h"
#include "model_finder.h"
#include "pdf_viewer.h"
#include "screenshot.h"
#include "settings_dialog.h"
#include "speed_panel.h"
#include "text_viewer.h"
#include "tiny_model.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <memory>

using namespace folio;
using testutil::saveScreenshot;

namespace {

constexpr int kWait = 30000;

bool writeFile(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

QString notesText() {
    QString text = "Field notes on the river survey\n\n";
    for (int i = 1; i <= 40; ++i)
        text += QString("Line %1: the water level at station %1 was measured at dawn.\n").arg(i);
    return text + "The heron nests beside the old mill were counted twice.\n";
}

// A small program with a build file: it imports as one codebase.
bool writeSourceTree(const QString& root) {
    return writeFile(root + "/CMakeLists.txt",
                     "cmake_minimum_required(VERSION 3.20)\nproject(tinycalc CXX)\n"
                     "add_executable(tinycalc src/main.cpp src/parser.cpp)\n") &&
           writeFile(root + "/src/parser.h",
                     "#pragma once\n#include <string>\n// Parses \"1 + 2\" style sums.\n"
                     "int evaluate(const std::string& expression);\n") &&
           writeFile(root + "/src/parser.cpp",
                     "#include \"parser.h\"\n#include <sstream>\n"
                     "int evaluate(const std::string& expression) {\n"
                     "    std::istringstream in(expression);\n    int sum = 0, value = 0;\n"
                     "    char plus = '+';\n    while (in >> value) { sum += value; in >> plus; }\n"
                     "    return sum;\n}\n") &&
           writeFile(root + "/src/main.cpp",
                     "#include \"parser.h\"\n#include <iostream>\n"
                     "int main() {\n    std::string line;\n"
                     "    while (std::getline(std::cin, line)) std::cout << evaluate(line);\n}\n");
}

// Marks a model folder as Folio's demo model, as the bundled one is.
bool markAsDemo(const QString& dir) {
    QFile file(dir + "/config.json");
    if (!file.open(QIODevice::ReadOnly)) return false;
    QJsonObject config = QJsonDocument::fromJson(file.readAll()).object();
    file.close();
    config.insert("folio_demo", true);
    return writeFile(dir + "/config.json", QJsonDocument(config).toJson());
}

qint64 documentId(MainWindow& window, const QString& titleStart) {
    const QModelIndexList rows =
        window.libraryModel()->match(window.libraryModel()->index(0, 0), Qt::DisplayRole,
                                     titleStart, 1, Qt::MatchStartsWith | Qt::MatchRecursive);
    return rows.isEmpty() ? 0 : rows.first().data(LibraryModel::DocumentIdRole).toLongLong();
}

QPushButton* presetButton(ChatPanel* chat, const QString& name) {
    for (QPushButton* button : chat->presetButtons())
        if (button->text() == name) return button;
    return nullptr;
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void emptyLibraryOffersSamples();
    void demoModelShowsItsBanner();
    void brokenModelShowsAMessage();
    void importsPdfEpubAndSourceTree();
    void opensDocumentsAndPassages();
    void answersAboutTheTextThenStopsRegeneratesExports();
    void citationsBecomeLinks();
    void answersAboutPdfEpubAndSourceTree();
    void reopensAndContinuesStoredConversation();
    void leastRecentlyUsedContextGoesToTheDataFolder();
    void panelsScreenshots();

private:
    QString writeIni(const QString& name, const QString& modelDir);
    // How the context comes before an answer: prefilled, reused from the resident ones (a new
    // chat target), or already loaded in this chat.
    enum class Load { Prefill, Reuse, None };
    // Sends a question (by `send`) and waits for its streamed answer; checks that it streamed and
    // that the memory and speed panels followed.
    void askAndCheck(const std::function<void()>& send, Load load);

    QTemporaryDir dir_;
    QString modelDir_;
    std::unique_ptr<MainWindow> window_;
    qint64 textId_ = 0, pdfId_ = 0, epubId_ = 0, codeId_ = 0;
};

void TestMainWindow::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    // Nothing of this machine's own: an empty Hugging Face cache, no bundled folders by variable.
    QVERIFY(QDir().mkpath(dir_.filePath("hf-hub")));
    qputenv("HF_HUB_CACHE", dir_.filePath("hf-hub").toUtf8());
    qunsetenv("FOLIO_DEMO_MODEL");
    qunsetenv("FOLIO_SAMPLES_DIR");
    modelDir_ = dir_.filePath("model");
    QVERIFY(testutil::writeTinyModel(modelDir_.toStdString()));
}

void TestMainWindow::cleanupTestCase() {
    window_.reset();
}

QString TestMainWindow::writeIni(const QString& name, const QString& modelDir) {
    SettingsValues v;
    v.modelFolder = modelDir;
    v.backend = "cpu";
    v.prefillChunk = 64;
    v.sampling.maxTokens = 24;
    v.sampling.seed = 7;
    // A system prompt: documents are loaded behind it once, not again at the first question.
    v.sampling.systemPrompt = "Answer from the document.";
    v.dataFolder = dir_.filePath(name + "-data");
    const QString ini = dir_.filePath(name + ".ini");
    Settings(ini).setValues(v);
    return ini;
}

void TestMainWindow::emptyLibraryOffersSamples() {
    const QString samples = dir_.filePath("samples");
    QVERIFY(writeFile(samples + "/walden.txt", "I went to the woods because I wished to live "
                                               "deliberately.\n"));
    QVERIFY(writeFile(samples + "/sonnets.txt", "Shall I compare thee to a summer's day?\n"));
    // Notes on the samples' sources and licences, which are not documents to import.
    QVERIFY(writeFile(samples + "/README.md", "# Sample documents\n\nSources and licences.\n"));
    QVERIFY(writeFile(samples + "/LICENSE.txt", "Public domain.\n"));
    qputenv("FOLIO_SAMPLES_DIR", samples.toUtf8());
    MainWindow window({writeIni("empty", dir_.filePath("no-model")), false});
    qunsetenv("FOLIO_SAMPLES_DIR");
    window.resize(1400, 860);
    QCOMPARE(window.libraryModel()->documentCount(), 0);
    QVERIFY(!window.modelReady());
    QVERIFY(window.modelStatus().contains("not configured"));
    QCOMPARE(window.chatPanel()->state(), ChatPanel::State::NoTarget);
    QVERIFY(!window.samplesButton()->isHidden());
    saveScreenshot(&window, "01-empty-library.png");

    FirstRunDialog guide(modelFolderProblem(dir_.filePath("no-model")), &window);
    guide.resize(620, 430);
    saveScreenshot(&guide, "04-first-run-guide.png");
    SettingsDialog settings(window.settings(), &window);
    saveScreenshot(&settings, "05-settings.png");

    // The samples go into a collection of their own; the hint goes once there are documents.
    QSignalSpy imported(&window, &MainWindow::importFinished);
    window.samplesButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, kWait);
    QCOMPARE(window.libraryModel()->documentCount(), 2);
    QVERIFY(
        !window.libraryModel()
             ->match(window.libraryModel()->index(0, 0), LibraryModel::CollectionRole, "Samples")
             .isEmpty());
    QVERIFY(window.samplesButton()->parentWidget()->isHidden());
}

void TestMainWindow::demoModelShowsItsBanner() {
    const QString demo = dir_.filePath("demo-model");
    QVERIFY(testutil::writeTinyModel(demo.toStdString()));
    QVERIFY(markAsDemo(demo));
    qputenv("FOLIO_DEMO_MODEL", demo.toUtf8());
    // No model configured and none in the cache: the demo model is loaded, and says so.
    MainWindow window({writeIni("demo", QString()), false});
    qunsetenv("FOLIO_DEMO_MODEL");
    window.resize(1400, 860);
    window.show();
    QCOMPARE(window.modelFolder(), demo);
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), kWait);
    QVERIFY(window.demoBanner()->isVisible());
    QVERIFY(window.demoBanner()->text().contains("Demo model — answers are not from MiniCPM-SALA"));
    QVERIFY(window.demoBanner()->text().contains("href"));
    QVERIFY(window.modelStatus().contains("demo"));
    saveScreenshot(&window, "09-demo-model.png");

    // A real model configured: no banner.
    SettingsValues real = window.settings();
    real.modelFolder = modelDir_;
    window.applySettings(real);
    QCOMPARE(window.modelFolder(), modelDir_);
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), kWait);
    QVERIFY(window.demoBanner()->isHidden());
}

void TestMainWindow::brokenModelShowsAMessage() {
    // All the files are there, but the weights are not weights: the load fails on the engine's
    // thread, and the window says so and carries on.
    const QString broken = dir_.filePath("broken-model");
    QVERIFY(QDir().mkpath(broken));
    for (const QString& name : QDir(modelDir_).entryList(QDir::Files))
        QVERIFY(QFile::copy(modelDir_ + "/" + name, broken + "/" + name));
    QVERIFY(QFile::remove(broken + "/model.safetensors"));
    QVERIFY(writeFile(broken + "/model.safetensors", "these are not weights"));
    QCOMPARE(modelFolderProblem(broken), QString());
    MainWindow window({writeIni("broken", broken), false});
    window.show();
    QTRY_VERIFY_WITH_TIMEOUT(window.modelStatus().contains("not loaded"), kWait);
    QVERIFY(!window.modelReady());
    QVERIFY2(window.statusBar()->currentMessage().contains("could not be loaded"),
             qPrintable(window.statusBar()->currentMessage()));
    QVERIFY(window.statusBar()->currentMessage().contains("model.safetensors"));
}

void TestMainWindow::importsPdfEpubAndSourceTree() {
    window_ = std::make_unique<MainWindow>(MainWindowOptions{writeIni("full", modelDir_), false});
    MainWindow& window = *window_;
    window.resize(1400, 860);
    window.show();
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), kWait);

    const QString textPath = dir_.filePath("notes.txt");
    QVERIFY(writeFile(textPath, notesText().toUtf8()));
    const QString pdfPath = dir_.filePath("report.pdf");
    QVERIFY(fixtures::writePdf(pdfPath, "Lighthouse report",
                               {"Quarterly report of the lighthouse keepers",
                                "The lamp was serviced in the second week of March."}));
    const QString epubPath = dir_.filePath("journal.epub");
    QVERIFY(fixtures::writeEpub(
        epubPath, "The Sea Journal", "A. Sailor",
        {{"ch1.xhtml", "The Voyage",
          "<h1>The Voyage</h1><p>The ship left the harbour at dawn with forty sailors.</p>"},
         {"ch2.xhtml", "The Storm",
          "<h1>The Storm</h1><p>On the third night the mainsail tore in the gale.</p>"}}));
    const QString treePath = dir_.filePath("tinycalc");
    QVERIFY(writeSourceTree(treePath));

    // A text file (and a missing one) through the menu's path, the PDF dropped on the window,
    // then the EPUB and the source tree together.
    QSignalSpy imported(&window, &MainWindow::importFinished);
    window.importPaths({textPath, dir_.filePath("missing.txt")});
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, kWait);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(pdfPath)});
    QVERIFY(window.importDropped(&mime));
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 2, kWait);
    window.importPaths({epubPath, treePath});
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 3, kWait);
    QCOMPARE(window.libraryModel()->documentCount(), 4);

    // The missing file is reported in the import panel, not added.
    QCOMPARE(window.importPanel()->topLevelItemCount(), 3);
    QVERIFY(window.importPanel()->topLevelItem(0)->text(0).contains("1 failed"));
    QCOMPARE(window.importPanel()->topLevelItem(0)->childCount(), 1);
    QVERIFY(window.importPanel()->topLevelItem(0)->child(0)->text(0).contains("missing.txt"));

    textId_ = documentId(window, "notes");
    pdfId_ = documentId(window, "Lighthouse report");
    epubId_ = documentId(window, "The Sea Journal");
    codeId_ = documentId(window, "tinycalc");
    QVERIFY(textId_ > 0 && pdfId_ > 0 && epubId_ > 0 && codeId_ > 0);
    const QModelIndex code = window.libraryModel()->indexOfDocument(codeId_);
    QCOMPARE(code.data(LibraryModel::KindRole).toString(), QString("code"));
    QCOMPARE(window.libraryModel()->indexOfDocument(epubId_).data(LibraryModel::KindRole),
             QVariant("epub"));
    // Token counts come from the model's tokenizer.
    QVERIFY(code.siblingAtColumn(LibraryModel::TokensColumn).data().toString() != "–");
}

void TestMainWindow::opensDocumentsAndPassages() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    QVERIFY(window.openDocument(pdfId_));
    PdfViewer* pdf = window.documentView()->pdfViewer(pdfId_);
    QVERIFY(pdf);
    QCOMPARE(pdf->pageCount(), 2);
    QVERIFY(window.openDocument(epubId_));
    TextViewer* book = window.documentView()->textViewer(epubId_);
    QVERIFY(book);
    QVERIFY(book->text().contains("mainsail tore"));
    QVERIFY(window.openDocument(codeId_));
    QVERIFY(window.documentView()->textViewer(codeId_)->text().contains("int evaluate("));
    QVERIFY(window.openDocument(textId_));
    TextViewer* viewer = window.documentView()->textViewer(textId_);
    QVERIFY(viewer);
    QVERIFY(viewer->text().contains("heron nests"));
    saveScreenshot(&window, "02-document-open.png");

    // A passage link opens the text at its line; a PDF passage at its page.
    const qint64 at = viewer->text().indexOf("heron nests");
    QVERIFY(window.openLink(
        QUrl(QString("folio://doc/%1?start=%2&end=%3").arg(textId_).arg(at).arg(at + 11))));
    QCOMPARE(viewer->passage(), qMakePair(at, at + 11));
    QVERIFY(!window.openLink(QUrl("https://example.com/")));
}

void TestMainWindow::askAndCheck(const std::function<void()>& send, Load load) {
    MainWindow& window = *window_;
    ChatPanel* chat = window.chatPanel();
    const QString key = chat->targetKey();
    QSignalSpy progress(window.engine(), &EngineController::contextProgress);
    QSignalSpy ready(window.engine(), &EngineController::contextReady);
    QSignalSpy pieces(window.engine(), &EngineController::answerText);
    QSignalSpy finished(window.engine(), &EngineController::answerFinished);
    const int answersBefore = window.speedPanel()->answerCount();
    const int messagesBefore = chat->messageCount();
    send();
    if (load != Load::None) {
        QCOMPARE(chat->state(), ChatPanel::State::Loading);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kWait);
        QCOMPARE(progress.isEmpty(), load == Load::Reuse);
        if (load == Load::Prefill)
            QCOMPARE(progress.last().at(1).toLongLong(), progress.last().at(2).toLongLong());
        // The context is resident: the memory panel shows it, the meter counts it.
        QVERIFY(window.memoryPanel()->contextMiB(key) > 0);
        QVERIFY(window.contextMeter()->used() >= ready.first().at(1).toLongLong());
    }
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWait);
    QCOMPARE(ready.count(), load == Load::None ? 0 : 1); // the question alone goes in
    QVERIFY(pieces.count() >= 1);
    QCOMPARE(chat->state(), ChatPanel::State::Ready);
    QCOMPARE(chat->messageCount(), messagesBefore + 2);
    QString streamed;
    for (const QList<QVariant>& piece : pieces) streamed += piece.at(1).toString();
    QCOMPARE(chat->message(chat->messageCount() - 1)->rawText(), streamed);
    QCOMPARE(window.speedPanel()->answerCount(), answersBefore + 1);
    QVERIFY(window.speedPanel()->answerRates(answersBefore).y() > 0);
    QVERIFY(window.speedPanel()->decodeText() != "–");
    QVERIFY(window.memoryPanel()->historySize() > 0);
    QVERIFY(window.contextMeter()->capacity() > 0);
}

void TestMainWindow::answersAboutTheTextThenStopsRegeneratesExports() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    ChatPanel* chat = window.chatPanel();
    window.chatAbout({textId_});
    QCOMPARE(chat->targetKey(), QString("doc:%1").arg(textId_));
    QSignalSpy progress(window.engine(), &EngineController::contextProgress);
    askAndCheck([chat] { chat->sendQuestion("Where do the herons nest?"); }, Load::Prefill);
    if (QTest::currentTestFailed()) return;
    QVERIFY(progress.count() >= 2); // the text spans several prefill chunks
    QVERIFY(progress.first().at(1).toLongLong() < progress.last().at(1).toLongLong());

    // A long answer, stopped after its first piece; no second prefill for the same document.
    QSignalSpy ready(window.engine(), &EngineController::contextReady);
    QSignalSpy pieces(window.engine(), &EngineController::answerText);
    QSignalSpy finished(window.engine(), &EngineController::answerFinished);
    SettingsValues longer = window.settings();
    longer.sampling.maxTokens = 4000;
    window.applySettings(longer);
    chat->regenerateButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(pieces.count() >= 1, kWait);
    chat->stopButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWait);
    QCOMPARE(finished.last().at(2).toString(), QString("stopped"));
    QVERIFY(chat->message(1)->note().contains("stopped"));

    // Regenerate once more with a short answer.
    longer.sampling.maxTokens = 16;
    window.applySettings(longer);
    chat->regenerateButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kWait);
    QCOMPARE(ready.count(), 0);
    QCOMPARE(chat->messageCount(), 2);
    const QString answer = chat->message(1)->parts().answer;

    // Export, and the stored conversation matches what is shown.
    const QString mdPath = dir_.filePath("conversation.md");
    QString error;
    QVERIFY2(window.exportConversation(mdPath, &error), qPrintable(error));
    QFile md(mdPath);
    QVERIFY(md.open(QIODevice::ReadOnly));
    const QString exported = QString::fromUtf8(md.readAll());
    QVERIFY(exported.startsWith("# notes"));
    QVERIFY(exported.contains("## You\n\nWhere do the herons nest?"));
    QVERIFY(exported.contains(answer));
    QCOMPARE(exported.count("## Folio"), 1);

    auto db = LibraryDatabase::open(QDir(window.settings().dataFolder).filePath("library.sqlite"));
    QVERIFY(db.ok());
    ConversationStore conversations(**db);
    auto messages = conversations.messages(chat->conversationId());
    QVERIFY(messages.ok());
    QCOMPARE(int(messages->size()), 2);
    QCOMPARE(messages->at(0).content, QString("Where do the herons nest?"));
    QCOMPARE(messages->at(1).content, chat->message(1)->rawText());
    QCOMPARE(chat->conversationList()->count(), 1);
}

void TestMainWindow::citationsBecomeLinks() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    ChatPanel* chat = window.chatPanel();
    // The tiny model's answers are noise; a finished answer that quotes the document is given.
    const QString quoted = "The notes say: \"the HERON nests beside the old mill\" and "
                           "\"nothing of this sentence is in the notes\".";
    chat->message(1)->setText(quoted);
    emit chat->answerCompleted(1, quoted);
    const QList<QuoteLink> links = chat->message(1)->links();
    QCOMPARE(links.size(), 1); // the second quote is nowhere in the document
    QCOMPARE(links[0].quote, QString("the HERON nests beside the old mill"));
    QVERIFY(chat->message(1)->body()->toHtml().contains("folio://doc/"));
    QVERIFY(window.openLink(QUrl(links[0].href)));
    TextViewer* viewer = window.documentView()->textViewer(textId_);
    const QString passage = "The heron nests beside the old mill";
    const qint64 at = viewer->text().indexOf(passage);
    QCOMPARE(viewer->passage(), qMakePair(at, at + passage.size()));
}

void TestMainWindow::answersAboutPdfEpubAndSourceTree() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    ChatPanel* chat = window.chatPanel();

    window.chatAbout({pdfId_});
    askAndCheck([chat] { chat->sendQuestion("When was the lamp serviced?"); }, Load::Prefill);
    if (QTest::currentTestFailed()) return;
    // A quote of the PDF links to its page, highlighted there.
    const QString quoted = "It says \"The lamp was serviced in the second week of March\".";
    emit chat->answerCompleted(1, quoted);
    QCOMPARE(chat->message(1)->links().size(), 1);
    QVERIFY(window.openLink(QUrl(chat->message(1)->links()[0].href)));
    QCOMPARE(window.documentView()->pdfViewer(pdfId_)->currentPage(), 1);
    QVERIFY(window.documentView()->pdfViewer(pdfId_)->highlightCount() >= 1);

    window.chatAbout({epubId_});
    QPushButton* outline = presetButton(chat, "Outline the chapters");
    QVERIFY(outline);
    QVERIFY(!presetButton(chat, "Explain the architecture"));
    askAndCheck([outline] { outline->click(); }, Load::Prefill);
    if (QTest::currentTestFailed()) return;
    QVERIFY(chat->message(0)->rawText().contains("Outline the chapters"));

    window.chatAbout({codeId_});
    QPushButton* architecture = presetButton(chat, "Explain the architecture");
    QVERIFY(architecture);
    QVERIFY(presetButton(chat, "Summarize each module"));
    QVERIFY(!presetButton(chat, "Summarize"));
    askAndCheck([architecture] { architecture->click(); }, Load::Prefill);
    if (QTest::currentTestFailed()) return;
    window.sideTabs()->setCurrentWidget(chat);
    QVERIFY(window.openDocument(codeId_));
    saveScreenshot(&window, "03-answer-streamed.png");

    // Every document asked about is resident (the tiny model fits them all).
    for (qint64 id : {textId_, pdfId_, epubId_, codeId_})
        QVERIFY(window.memoryPanel()->contextMiB(QString("doc:%1").arg(id)) > 0);
}

void TestMainWindow::reopensAndContinuesStoredConversation() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    ChatPanel* chat = window.chatPanel();
    ConversationList* list = chat->conversationList();
    window.chatAbout({textId_});
    QCOMPARE(chat->messageCount(), 0);
    QCOMPARE(list->count(), 1);
    const qint64 first = list->idAt(0);

    // A new conversation about the notes; the context is still resident: no second prefill.
    askAndCheck([chat] { chat->sendQuestion("What was counted twice?"); }, Load::Reuse);
    if (QTest::currentTestFailed()) return;
    QCOMPARE(list->count(), 2);

    // Reopen the first one: its messages come back, and a follow-up continues it.
    QListWidgetItem* item = list->list()->item(1);
    QCOMPARE(list->idAt(1), first);
    QTest::mouseClick(list->list()->viewport(), Qt::LeftButton, {},
                      list->list()->visualItemRect(item).center());
    QCOMPARE(chat->conversationId(), first);
    QCOMPARE(chat->messageCount(), 2);
    QCOMPARE(chat->message(0)->rawText(), QString("Where do the herons nest?"));
    QSignalSpy finished(window.engine(), &EngineController::answerFinished);
    askAndCheck([chat] { chat->sendQuestion("And how many were there?"); }, Load::None);
    if (QTest::currentTestFailed()) return;
    // The earlier turn went to the model with the question.
    QVERIFY(finished.first().at(1).value<EngineStats>().promptTokens > 20);
    QCOMPARE(chat->conversationId(), first);
    QCOMPARE(chat->messageCount(), 4);
    QCOMPARE(list->idAt(0), first);
    window.sideTabs()->setCurrentWidget(chat);
    QVERIFY(window.openDocument(textId_));
    saveScreenshot(&window, "06-stored-conversations.png");

    auto db = LibraryDatabase::open(QDir(window.settings().dataFolder).filePath("library.sqlite"));
    QVERIFY(db.ok());
    auto messages = ConversationStore(**db).messages(first);
    QVERIFY(messages.ok());
    QCOMPARE(int(messages->size()), 4);
    QCOMPARE(messages->at(2).content, QString("And how many were there?"));
}

void TestMainWindow::leastRecentlyUsedContextGoesToTheDataFolder() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    ChatPanel* chat = window.chatPanel();
    // A fifth context (two documents together) pushes out the one used longest ago, the PDF,
    // into a snapshot inside the data folder.
    window.chatAbout({epubId_, codeId_});
    QCOMPARE(chat->targetKey(), QString("docs:%1,%2").arg(epubId_).arg(codeId_));
    askAndCheck([chat] { chat->sendQuestion("What do these have in common?"); }, Load::Prefill);
    if (QTest::currentTestFailed()) return;
    QCOMPARE(window.memoryPanel()->contextMiB(QString("doc:%1").arg(pdfId_)), -1.0);
    const QDir snapshots(QDir(window.settings().dataFolder).filePath("snapshots"));
    QCOMPARE(snapshots.entryList({QString("doc_%1-*.salactx").arg(pdfId_)}, QDir::Files).size(), 1);
}

void TestMainWindow::panelsScreenshots() {
    QVERIFY(window_);
    MainWindow& window = *window_;
    // The CPU backend says so in both panels.
    QVERIFY(window.memoryPanel()->cpuBannerShown());
    QVERIFY(window.speedPanel()->cpuBannerShown());
    QVERIFY(window.memoryPanel()->summary().contains("Process memory"));
    QVERIFY(window.memoryPanel()->historyTopMiB("Weights") > 0);
    QVERIFY(window.memoryPanel()->contextLegend().join(' ').contains("notes"));
    window.sideTabs()->setCurrentWidget(window.memoryPanel());
    saveScreenshot(&window, "07-memory-panel.png");
    window.sideTabs()->setCurrentWidget(window.speedPanel());
    saveScreenshot(&window, "08-speed-panel.png");
    window.sideTabs()->setCurrentWidget(window.chatPanel());
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
