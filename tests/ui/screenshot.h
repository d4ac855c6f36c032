#pragma once
// Screenshots of the UI suites: always into the build folder, and into docs/screenshots when
// FOLIO_UPDATE_SCREENSHOTS=1, so that the documented ones change only when asked to.

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QTest>
#include <QWidget>

namespace testutil {

inline void saveScreenshot(QWidget* widget, const QString& name) {
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

} // namespace testutil
