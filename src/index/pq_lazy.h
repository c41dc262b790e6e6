/* libpq, opened on first use (pq_lazy.c) instead of linked: only the PostgreSQL backend needs it,
 * and loading it (with its gssapi, ldap and TLS libraries) cost every ard process ~14 ms of CPU at
 * start. backend_pg.c includes this header instead of <libpq-fe.h>: the real header still gives the
 * types, and each PQ function below is renamed to a call through a table of pointers that
 * ard__pq_load fills with dlsym. A libpq function used in backend_pg.c must be listed here (else the
 * link fails: libpq is not linked). This is the second private header of src/index because the
 * renaming must not reach any other file. */
#ifndef ARD_INDEX_PQ_LAZY_H
#define ARD_INDEX_PQ_LAZY_H

#include "ard/core.h"

#include <libpq-fe.h>

// clang-format off
#define IDX_PQ_FUNCTIONS(X)                                                                        \
    X(PQbinaryTuples) X(PQclear) X(PQcmdTuples) X(PQconnectdb) X(PQconsumeInput)                   \
    X(PQerrorMessage) X(PQescapeIdentifier) X(PQescapeLiteral) X(PQexec) X(PQexecParams)           \
    X(PQexecPrepared) X(PQfinish) X(PQflush) X(PQfname) X(PQfnumber) X(PQfreemem) X(PQftype)       \
    X(PQgetCopyData) X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQisBusy)        \
    X(PQnfields) X(PQntuples) X(PQparameterStatus) X(PQprepare) X(PQputCopyData)                  \
    X(PQputCopyEnd) X(PQresStatus) X(PQresultErrorField) X(PQresultErrorMessage)                   \
    X(PQresultStatus) X(PQsendQuery) X(PQsendQueryParams) X(PQserverVersion)                       \
    X(PQsetNoticeProcessor) X(PQsetSingleRowMode) X(PQsetnonblocking) X(PQsocket) X(PQstatus)      \
    X(PQtransactionStatus)
// clang-format on

#define IDX_PQ_FIELD(name) __typeof__(name) *name;
typedef struct idx_pq {
    IDX_PQ_FUNCTIONS(IDX_PQ_FIELD)
} idx_pq;
#undef IDX_PQ_FIELD

/* The table; valid once ard__pq_load returned ARD_OK. */
extern idx_pq ard__pq;

/* Opens libpq once per process (thread-safe): the library the build found (its path, then its
 * soname, then libpq.so.5). ARD_OK, or ARD_ENOTSUP "PostgreSQL support needs libpq.so.5: <dlerror>"
 * (or naming a missing function), the same on every later call. */
ard_status ard__pq_load(ard_error *err);

#ifndef IDX_PQ_LAZY_IMPL
#define PQbinaryTuples (ard__pq.PQbinaryTuples)
#define PQclear (ard__pq.PQclear)
#define PQcmdTuples (ard__pq.PQcmdTuples)
#define PQconnectdb (ard__pq.PQconnectdb)
#define PQconsumeInput (ard__pq.PQconsumeInput)
#define PQerrorMessage (ard__pq.PQerrorMessage)
#define PQescapeIdentifier (ard__pq.PQescapeIdentifier)
#define PQescapeLiteral (ard__pq.PQescapeLiteral)
#define PQexec (ard__pq.PQexec)
#define PQexecParams (ard__pq.PQexecParams)
#define PQexecPrepared (ard__pq.PQexecPrepared)
#define PQfinish (ard__pq.PQfinish)
#define PQflush (ard__pq.PQflush)
#define PQfname (ard__pq.PQfname)
#define PQfnumber (ard__pq.PQfnumber)
#define PQfreemem (ard__pq.PQfreemem)
#define PQftype (ard__pq.PQftype)
#define PQgetCopyData (ard__pq.PQgetCopyData)
#define PQgetResult (ard__pq.PQgetResult)
#define PQgetisnull (ard__pq.PQgetisnull)
#define PQgetlength (ard__pq.PQgetlength)
#define PQgetvalue (ard__pq.PQgetvalue)
#define PQisBusy (ard__pq.PQisBusy)
#define PQnfields (ard__pq.PQnfields)
#define PQntuples (ard__pq.PQntuples)
#define PQparameterStatus (ard__pq.PQparameterStatus)
#define PQprepare (ard__pq.PQprepare)
#define PQputCopyData (ard__pq.PQputCopyData)
#define PQputCopyEnd (ard__pq.PQputCopyEnd)
#define PQresStatus (ard__pq.PQresStatus)
#define PQresultErrorField (ard__pq.PQresultErrorField)
#define PQresultErrorMessage (ard__pq.PQresultErrorMessage)
#define PQresultStatus (ard__pq.PQresultStatus)
#define PQsendQuery (ard__pq.PQsendQuery)
#define PQsendQueryParams (ard__pq.PQsendQueryParams)
#define PQserverVersion (ard__pq.PQserverVersion)
#define PQsetNoticeProcessor (ard__pq.PQsetNoticeProcessor)
#define PQsetSingleRowMode (ard__pq.PQsetSingleRowMode)
#define PQsetnonblocking (ard__pq.PQsetnonblocking)
#define PQsocket (ard__pq.PQsocket)
#define PQstatus (ard__pq.PQstatus)
#define PQtransactionStatus (ard__pq.PQtransactionStatus)
#endif

#endif
