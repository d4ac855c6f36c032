// The Folio desktop app.
#include "main_window.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Folio"));
    QApplication::setApplicationName(QStringLiteral("folio"));
    QApplication::setApplicationDisplayName(QStringLiteral("Folio"));
    folio::MainWindow window;
    window.show();
    return app.exec();
}
