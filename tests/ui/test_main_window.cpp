// The main window end to end on the CPU backend with a tiny random model: import, open, load a
// context, ask, stream, stop, regenerate, export, citations links; and screenshots.
#include "chat_message.h"
#include "chat_panel.h"
#include "conversation_store.h"
#include "document_view.h"
#include "library_database.h"
#include "library_model.h"
#include "main_window.h"
#include "pdf_viewer.h"
#include "text_viewer.h"
#include "tiny_model.h"

#include <QDir>
#include <QDropEvent>
#include <QMimeData>
#include <QPainter>
#include <QPdfWriter>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QTreeWidget>

using namespace folio;

namespace {

void saveScreenshot(QWidget* widget, const QString& name) {
    widget->show();
    QCoreApplication::processEvents();
    const QImage image = widget->grab().toImage();
    QVERIFY(!image.isNull());
    const QString dir = QCoreApplication::applicationDirPath() + "/screenshots";
    QDir().mkpath(dir);
    QVERIFY(image.save(dir + "/" + name));
    if (qgetenv("FOLIO_UPDATE_SCREENSHOTS") == "1") {
        QDir().mkpath(FOLIO_SCREENSHOT_DIR);
        QFile::remove(QString(FOLIO_SCREENSHOT_DIR) + "/" + name);
        QVERIFY(image.save(QString(FOLIO_SCREENSHOT_DIR) + "/" + name));
    }
}

QString writeText(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return {};
    QString text = "Field notes on the river survey\n\n";
    for (int i = 1; i <= 40; ++i)
        text += QString("Line %1: the water level at station %1 was measured at dawn.\n").arg(i);
    text += "The heron nests beside the old mill were counted twice.\n";
    file.write(text.toUtf8());
    return text;
}

void writePdf(const QString& path) {
    QPdfWriter writer(path);
    QPainter painter(&writer);
    QFont font = painter.font();
    font.setPointSize(14);
    painter.setFont(font);
    painter.drawText(QPointF(300, 800), "Quarterly report of the lighthouse keepers");
    writer.newPage();
    painter.drawText(QPointF(300, 800), "The lamp was serviced in the second week of March.");
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void emptyLibraryAndFirstRun();
    void importOpenAskStopRegenerateExport();

private:
    QString writeIni(const QString& name, const QString& modelDir);

    QTemporaryDir dir_;
    QString modelDir_;
};

void TestMainWindow::initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    modelDir_ = dir_.filePath("model");
    QVERIFY(testutil::writeTinyModel(modelDir_.toStdString()));
}

QString TestMainWindow::writeIni(const QString& name, const QString& modelDir) {
    UiSettings s;
    s.modelDir = modelDir;
    s.backend = "cpu";
    s.prefillChunk = 64;
    s.sampling.maxTokens = 24;
    s.sampling.seed = 7;
    s.dataDir = dir_.filePath(name + "-data");
    const QString ini = dir_.filePath(name + ".ini");
    QSettings store(ini, QSettings::IniFormat);
    s.save(store);
    return ini;
}

void TestMainWindow::emptyLibraryAndFirstRun() {
    MainWindow window({writeIni("empty", dir_.filePath("no-model")), false});
    window.resize(1400, 860);
    QCOMPARE(window.libraryModel()->documentCount(), 0);
    QVERIFY(!window.modelReady());
    QVERIFY(window.modelStatus().contains("not configured"));
    QCOMPARE(window.chatPanel()->state(), ChatPanel::State::NoTarget);
    saveScreenshot(&window, "01-empty-library.png");

    FirstRunDialog guide(modelFolderProblem(dir_.filePath("no-model")), &window);
    guide.resize(620, 430);
    saveScreenshot(&guide, "04-first-run-guide.png");
    SettingsDialog settings(window.settings(), &window);
    saveScreenshot(&settings, "05-settings.png");
}

void TestMainWindow::importOpenAskStopRegenerateExport() {
    const QString ini = writeIni("full", modelDir_);
    MainWindow window({ini, false});
    window.resize(1400, 860);
    window.show();
    QTRY_VERIFY_WITH_TIMEOUT(window.modelReady(), 30000);

    // Import: a text file through the runner, a PDF dropped on the window.
    const QString textPath = dir_.filePath("notes.txt");
    const QString text = writeText(textPath);
    const QString pdfPath = dir_.filePath("report.pdf");
    writePdf(pdfPath);
    QSignalSpy imported(&window, &MainWindow::importFinished);
    window.importPaths({textPath, dir_.filePath("missing.txt")});
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, 20000);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(pdfPath)});
    QVERIFY(window.importDropped(&mime));
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 2, 20000);
    QCOMPARE(window.libraryModel()->documentCount(), 2);
    // The missing file is reported in the import panel, not added.
    QCOMPARE(window.importPanel()->topLevelItemCount(), 2);
    QVERIFY(window.importPanel()->topLevelItem(0)->text(0).contains("1 failed"));
    QCOMPARE(window.importPanel()->topLevelItem(0)->childCount(), 1);
    QVERIFY(window.importPanel()->topLevelItem(0)->child(0)->text(0).contains("missing.txt"));

    const QModelIndexList rows =
        window.libraryModel()->match(window.libraryModel()->index(0, 0), Qt::DisplayRole, "report",
                                     1, Qt::MatchStartsWith | Qt::MatchRecursive);
    QVERIFY(!rows.isEmpty());
    const qint64 pdfId = rows.first().data(LibraryModel::DocumentIdRole).toLongLong();
    const QModelIndexList textRows =
        window.libraryModel()->match(window.libraryModel()->index(0, 0), Qt::DisplayRole, "notes",
                                     1, Qt::MatchStartsWith | Qt::MatchRecursive);
    QVERIFY(!textRows.isEmpty());
    const qint64 textId = textRows.first().data(LibraryModel::DocumentIdRole).toLongLong();
    // Token counts come from the model's tokenizer.
    QVERIFY(
        window.libraryModel()
            ->index(textRows.first().row(), LibraryModel::TokensColumn, textRows.first().parent())
            .data()
            .toString() != QStringLiteral("–"));

    // Open both; the PDF shows pages, the text its lines.
    QVERIFY(window.openDocument(pdfId));
    PdfViewer* pdf = window.documentView()->pdfViewer(pdfId);
    QVERIFY(pdf);
    QCOMPARE(pdf->pageCount(), 2);
    QVERIFY(window.openDocument(textId));
    TextViewer* viewer = window.documentView()->textViewer(textId);
    QVERIFY(viewer);
    QVERIFY(viewer->text().contains("heron nests"));
    saveScreenshot(&window, "02-document-open.png");

    // Citation links open the passage: in the text, and on the PDF's page.
    const qint64 at = viewer->text().indexOf("heron nests");
    QVERIFY(window.openLink(
        QUrl(QString("folio://doc/%1?start=%2&end=%3").arg(textId).arg(at).arg(at + 11))));
    QCOMPARE(viewer->passage(), qMakePair(at, at + 11));
    QVERIFY(!window.openLink(QUrl("https://example.com/")));

    // Chat about the text: load with progress, then an answer streams in.
    window.chatAbout({textId});
    ChatPanel* chat = window.chatPanel();
    QCOMPARE(chat->targetKey(), QString("doc:%1").arg(textId));
    QSignalSpy progress(window.engine(), &EngineController::contextProgress);
    QSignalSpy ready(window.engine(), &EngineController::contextReady);
    QSignalSpy finished(window.engine(), &EngineController::answerFinished);
    QSignalSpy pieces(window.engine(), &EngineController::answerText);
    chat->sendQuestion("Where do the herons nest?");
    QCOMPARE(chat->state(), ChatPanel::State::Loading);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 30000);
    QVERIFY(progress.count() >= 2); // the text spans several prefill chunks
    QVERIFY(progress.first().at(1).toLongLong() < progress.last().at(1).toLongLong());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY(pieces.count() >= 1);
    QCOMPARE(chat->state(), ChatPanel::State::Ready);
    QCOMPARE(chat->messageCount(), 2);
    QString streamed;
    for (const QList<QVariant>& piece : pieces) streamed += piece.at(1).toString();
    QCOMPARE(chat->message(1)->rawText(), streamed);
    saveScreenshot(&window, "03-answer-streamed.png");

    // A long answer, stopped after its first piece.
    UiSettings longer = window.settings();
    longer.sampling.maxTokens = 4000;
    window.applySettings(longer);
    pieces.clear();
    chat->regenerateButton()->click();
    QCOMPARE(ready.count(), 1); // no second prefill for the same document
    QTRY_VERIFY_WITH_TIMEOUT(pieces.count() >= 1, 30000);
    chat->stopButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 30000);
    QCOMPARE(finished.last().at(2).toString(), QString("stopped"));
    QVERIFY(chat->message(1)->note().contains("stopped"));

    // Regenerate once more with a short answer.
    longer.sampling.maxTokens = 16;
    window.applySettings(longer);
    chat->regenerateButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 30000);
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

    auto db = LibraryDatabase::open(window.settings().libraryPath());
    QVERIFY(db.ok());
    ConversationStore conversations(**db);
    auto messages = conversations.messages(chat->conversationId());
    QVERIFY(messages.ok());
    QCOMPARE(int(messages->size()), 2);
    QCOMPARE(messages->at(0).content, QString("Where do the herons nest?"));
    QCOMPARE(messages->at(1).content, chat->message(1)->rawText());
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
