#pragma once

// What every libFuzzer target shares: the input as bytes and as text, and a failed property that
// stops the run with a message (libFuzzer then keeps the input as a crash file).

#include <QByteArray>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace keepflow::fuzz {

inline QByteArray bytes(const std::uint8_t *data, std::size_t size) {
    return QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
}

[[noreturn]] inline void broken(const QString &property) {
    std::fprintf(stderr, "property broken: %s\n", property.toUtf8().constData());
    std::abort();
}

inline void require(bool holds, const QString &property) {
    if (!holds)
        broken(property);
}

} // namespace keepflow::fuzz
