/* Running a trained net over dataset slices: predictions at each slice's own resolution, and
 * the scores segmentation people report, Dice and IoU per slice and per patient volume (or, for
 * the auto-encoder, the reconstruction error). */
#ifndef CLSEG_EVALUATE_H
#define CLSEG_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/context.h"
#include "clseg/data.h"
#include "clseg/export.h"
#include "clseg/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How slices become the net's input; a trainer stores its choices in the net's metadata
 * ("clseg.train.size", "clseg.train.normalize", "clseg.train.channels", and "clseg.train.batch",
 * which inference reuses as its batch) so inference prepares slices the same way. */
typedef struct clseg_infer_options {
    int batch;                               /* slices per forward pass, >= 1 */
    int size;                                /* input height = width (a multiple of 16) */
    int channels[CLSEG_DATA_MAX_CHANNELS];   /* image channels fed, in order */
    int channel_count;                       /* 0: all of the slice's channels */
    clseg_normalize normalize;
    float threshold;                         /* tumour where the probability > threshold */
} clseg_infer_options;

/* From the net's metadata where present, else: batch 8, size 256, all channels, unit scaling,
 * threshold 0.5. INVALID_ARGUMENT (with a message) when a stored value is malformed. */
CLSEG_API clseg_status clseg_infer_options_from_net(const clseg_net *net, clseg_infer_options *opts, char *err,
                                                    size_t err_size);

/* What the net made of one slice. */
typedef struct clseg_slice_prediction {
    size_t slice;                 /* dataset slice index */
    int width, height;            /* the slice's own size */
    /* Segmentation nets: the tumour probability (sigmoid of the logit), resized bilinearly
     * from the net's output to height x width, and the mask it gives (0/1, > threshold). NULL
     * for the auto-encoder. */
    const float *probability;
    const uint8_t *mask;
    /* Against the slice's mask at its own size (zeros when it has none); NaN for the
     * auto-encoder. */
    double tp, fp, fn, tn;
    double dice, iou;             /* of this slice; 1 when truth and prediction are both empty */
    /* The net's input and raw output at the net's size (c x size x size, normalised values):
     * for the auto-encoder the output is the reconstruction. */
    const float *input, *output;
    int input_channels, output_channels, size;
    double mse;                   /* auto-encoder: mean squared error of output vs input; else NaN */
} clseg_slice_prediction;

/* Called once per slice, in the order given; its arrays are valid during the call only. A
 * status other than SUCCESS stops the run and is returned. */
typedef clseg_status (*clseg_prediction_fn)(void *user, const clseg_slice_prediction *prediction);

/* Plans net for inference on ctx at batch x channels x size x size (re-planning it; parameters
 * are kept) and runs it over the slices (count 0: every slice of ds), the last batch padded.
 * The net must have been built by clseg_model_build (its metadata says whether it is the
 * auto-encoder) with 1 class. err names the problem (e.g. a size that is not a multiple of 16,
 * a channel the dataset lacks). */
CLSEG_API clseg_status clseg_predict_slices(clseg_net *net, clseg_context *ctx, const clseg_dataset *ds,
                                            const size_t *slices, size_t count, const clseg_infer_options *opts,
                                            clseg_prediction_fn fn, void *user, char *err, size_t err_size);

/* Scores of one patient volume: Dice and IoU of the counts summed over its slices. */
typedef struct clseg_patient_score {
    const char *name;
    size_t patient;               /* dataset patient index */
    size_t slices, tumour_slices;
    double tp, fp, fn, tn;
    double dice, iou;             /* of the volume */
    double slice_dice_mean;       /* mean of its slices' Dice */
    double mse;                   /* auto-encoder: mean over its slices; else NaN */
} clseg_patient_score;

typedef struct clseg_score_stats {
    double mean, median;
} clseg_score_stats;

typedef struct clseg_eval_report {
    size_t patient_count;
    clseg_patient_score *patients; /* in dataset order */
    size_t slice_count;
    bool autoencoder;              /* then the Dice/IoU fields are NaN and mse is set */
    clseg_score_stats slice_dice, slice_iou;   /* over every slice */
    clseg_score_stats volume_dice, volume_iou; /* over the patients' volumes */
    clseg_score_stats mse;         /* auto-encoder: over slices; else NaN */
    double seconds;                /* wall time of the run */
} clseg_eval_report;

/* Predicts the slices (as clseg_predict_slices) and scores them. The report is the caller's
 * (clseg_eval_report_destroy). */
CLSEG_API clseg_status clseg_evaluate(clseg_net *net, clseg_context *ctx, const clseg_dataset *ds, const size_t *slices,
                                      size_t count, const clseg_infer_options *opts, clseg_eval_report **report,
                                      char *err, size_t err_size);
CLSEG_API void clseg_eval_report_destroy(clseg_eval_report *report);

/* The report as one JSON object (patients, per-patient scores, the summary statistics); NaN is
 * written as null. Returns a malloc'd string, or NULL when out of memory. */
CLSEG_API char *clseg_eval_report_json(const clseg_eval_report *report);

#ifdef __cplusplus
}
#endif
#endif
