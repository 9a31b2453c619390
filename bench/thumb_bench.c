/* thumb_bench: times thumbnail_make on N threads, or enhance_make on one, over photographs on disk. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <vips/vips.h>

#include "worker/enhance.h"
#include "worker/imaging.h"
#include "worker/thumbnail.h"

enum { MAX_THREADS = 64 };

struct run {
	char **files;
	int nfiles;
	int jobs; /* files x rounds */
	atomic_int next;
	atomic_int failed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each job reads its file, as the worker reads a blob, and makes an 's' thumbnail. */
static void *thumb_thread(void *arg)
{
	struct run *r = arg;
	for (int i; (i = atomic_fetch_add(&r->next, 1)) < r->jobs;) {
		const char *path = r->files[i % r->nfiles];
		gchar *bytes = NULL;
		gsize len = 0;
		struct buf webp = BUF_INIT;
		unsigned w = 0, h = 0;
		char err[IMAGING_ERR_LEN];
		if (!g_file_get_contents(path, &bytes, &len, NULL) ||
		    thumbnail_make(bytes, len, THUMBNAIL_SMALL, IMAGING_MAX_PIXELS_DEFAULT, &webp,
				   &w, &h, err, sizeof err) != IMAGING_OK) {
			fprintf(stderr, "%s: %s\n", path, err);
			atomic_fetch_add(&r->failed, 1);
		}
		buf_free(&webp);
		g_free(bytes);
	}
	return NULL;
}

static int bench_thumbnails(int threads, int rounds, char **files, int nfiles)
{
	struct run r = {files, nfiles, nfiles * rounds, 0, 0};
	pthread_t t[MAX_THREADS];
	double start = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, thumb_thread, &r);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double seconds = now_s() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("thumbnails %d threads %d seconds %.3f per_second %.2f max_rss_kb %ld failed %d\n",
	       r.jobs, threads, seconds, r.jobs / seconds, ru.ru_maxrss, (int)r.failed);
	return r.failed ? 1 : 0;
}

static int bench_enhance(char **files, int nfiles)
{
	double megapixels = 0, seconds = 0;
	for (int i = 0; i < nfiles; i++) {
		gchar *bytes = NULL;
		gsize len = 0;
		if (!g_file_get_contents(files[i], &bytes, &len, NULL))
			return 1;
		struct buf out = BUF_INIT;
		char mime[ENHANCE_MIME_LEN], err[IMAGING_ERR_LEN];
		struct enhance_measure before, after;
		double start = now_s();
		enum imaging_outcome outcome =
		    enhance_make(bytes, len, ENHANCE_STRENGTH_MAX, IMAGING_MAX_PIXELS_DEFAULT, &out,
				 mime, &before, &after, err, sizeof err);
		seconds += now_s() - start;
		if (outcome != IMAGING_OK) {
			fprintf(stderr, "%s: %s\n", files[i], err);
			return 1;
		}
		VipsImage *header = vips_image_new_from_buffer(bytes, len, "", NULL);
		if (header) {
			megapixels += vips_image_get_width(header) *
				      (double)vips_image_get_height(header) / 1e6;
			g_object_unref(header);
		}
		buf_free(&out);
		g_free(bytes);
	}
	return printf("enhanced %d megapixels %.1f seconds %.3f seconds_per_megapixel %.4f\n",
		      nfiles, megapixels, seconds, seconds / megapixels) < 0;
}

int main(int argc, char **argv)
{
	char err[IMAGING_ERR_LEN];
	if (argc < 3 || (strcmp(argv[1], "thumb") && strcmp(argv[1], "enhance"))) {
		fprintf(stderr, "usage: %s thumb THREADS ROUNDS FILE...\n"
				"       %s enhance FILE...\n",
			argv[0], argv[0]);
		return 2;
	}
	/* One libvips thread per image: the parallelism is the jobs'. */
	if (!imaging_init(argv[0], 1, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int rc;
	if (!strcmp(argv[1], "thumb")) {
		int threads = atoi(argv[2]), rounds = argc > 3 ? atoi(argv[3]) : 0;
		if (threads < 1 || threads > MAX_THREADS || rounds < 1 || argc < 5) {
			fprintf(stderr, "thumb: THREADS 1-%d, ROUNDS >= 1, then files\n", MAX_THREADS);
			return 2;
		}
		rc = bench_thumbnails(threads, rounds, argv + 4, argc - 4);
	} else {
		rc = bench_enhance(argv + 2, argc - 2);
	}
	imaging_shutdown();
	return rc;
}
