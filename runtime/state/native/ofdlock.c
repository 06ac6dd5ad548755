/* Open file description locks for Node: a write lock on one byte of a file,
 * owned by the open file description (not the process), so two opens in one
 * process exclude each other, and dropped by the kernel when the last fd of
 * the description closes, also when the holder is killed.
 *   tryLock(fd, offset) -> 0, or the errno (EAGAIN: held elsewhere)
 *   lockWait(fd, offset) -> Promise of 0 or the errno (blocks a pool thread) */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>

static int ofd_lock(int fd, int64_t offset, int cmd)
{
	struct flock fl;
	int rc;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = offset;
	fl.l_len = 1;
	while ((rc = fcntl(fd, cmd, &fl)) < 0 && errno == EINTR)
		;
	return rc < 0 ? errno : 0;
}

static int args(napi_env env, napi_callback_info info, int *fd, int64_t *offset)
{
	size_t argc = 2;
	napi_value argv[2];
	int32_t f;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
	    napi_get_value_int32(env, argv[0], &f) != napi_ok || napi_get_value_int64(env, argv[1], offset) != napi_ok ||
	    f < 0 || *offset < 0) {
		napi_throw_type_error(env, NULL, "expected (fd, offset)");
		return -1;
	}
	*fd = f;
	return 0;
}

static napi_value try_lock(napi_env env, napi_callback_info info)
{
	napi_value out;
	int64_t offset;
	int fd;

	if (args(env, info, &fd, &offset))
		return NULL;
	napi_create_int32(env, ofd_lock(fd, offset, F_OFD_SETLK), &out);
	return out;
}

struct wait_work {
	napi_async_work work;
	napi_deferred deferred;
	int fd;
	int64_t offset;
	int err;
};

static void wait_execute(napi_env env, void *data)
{
	struct wait_work *w = data;

	(void)env;
	w->err = ofd_lock(w->fd, w->offset, F_OFD_SETLKW);
}

static void wait_complete(napi_env env, napi_status status, void *data)
{
	struct wait_work *w = data;
	napi_value out;

	napi_create_int32(env, status == napi_ok ? w->err : ECANCELED, &out);
	napi_resolve_deferred(env, w->deferred, out);
	napi_delete_async_work(env, w->work);
	free(w);
}

static napi_value lock_wait(napi_env env, napi_callback_info info)
{
	struct wait_work *w;
	napi_value promise, name;
	int64_t offset;
	int fd;

	if (args(env, info, &fd, &offset))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		napi_throw_error(env, NULL, "out of memory");
		return NULL;
	}
	w->fd = fd;
	w->offset = offset;
	napi_create_string_utf8(env, "rocker-lock", NAPI_AUTO_LENGTH, &name);
	if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
	    napi_create_async_work(env, NULL, name, wait_execute, wait_complete, w, &w->work) != napi_ok ||
	    napi_queue_async_work(env, w->work) != napi_ok) {
		free(w);
		napi_throw_error(env, NULL, "cannot queue the lock wait");
		return NULL;
	}
	return promise;
}

NAPI_MODULE_INIT()
{
	napi_value f;

	napi_create_function(env, "tryLock", NAPI_AUTO_LENGTH, try_lock, NULL, &f);
	napi_set_named_property(env, exports, "tryLock", f);
	napi_create_function(env, "lockWait", NAPI_AUTO_LENGTH, lock_wait, NULL, &f);
	napi_set_named_property(env, exports, "lockWait", f);
	return exports;
}
