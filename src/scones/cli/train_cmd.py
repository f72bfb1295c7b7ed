"""``scones train`` and ``scones threshold``: parse, call the library, print."""

from __future__ import annotations

import click

from scones.cli.context import AppContext, FiniteFloatRange, not_empty, pass_app


@click.command("train")
@click.option("--data", "data_uri", callback=not_empty,
              help="Staged dataset (folder, file:// or s3://). Default: the store's 'dataset'.")
@click.option("--arch", default="efficientnet_lite0", show_default=True,
              help="efficientnet_lite0 (ImageNet-pretrained, frozen, trained head) or small_resnet (from scratch).")
@click.option("--epochs", type=int, default=0,
              help="Maximum epochs of training (early stopping may end sooner; 0 = the architecture's "
                   "default). efficientnet_lite0 then adds one whole-network fine-tuning epoch, kept only "
                   "if it lowers validation loss.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for the split, initialisation and augmentation.")
@click.option("--out", "out_uri", callback=not_empty,
              help="Output folder for model.tar.gz, metrics.json and charts. Default: the store's 'model'.")
@click.option("--on", "backend", type=click.Choice(["local", "sagemaker"]), default="local", show_default=True,
              help="Train on this machine or as a SageMaker training job.")
@click.option("--role", help="SageMaker execution role ARN (with --on sagemaker).")
@click.option("--bucket", help="S3 bucket for the job's input and output (with --on sagemaker).")
@click.option("--instance-type", default="ml.m5.xlarge", show_default=True, help="SageMaker training instance type.")
@pass_app
def train(app: AppContext, data_uri: str | None, arch: str, epochs: int, seed: int, out_uri: str | None,
          backend: str, role: str | None, bucket: str | None, instance_type: str) -> None:
    """Train an image classifier and export model.tar.gz (ONNX + model.json)."""
    from scones.train.config import TrainConfig

    config = TrainConfig(arch=arch, epochs=epochs, seed=seed)
    data_uri = data_uri or app.default_uri("dataset")
    out_uri = out_uri or app.default_uri("model")
    if backend == "sagemaker":
        from scones.train.sagemaker import SageMakerJobRequest, run_training_job

        job = run_training_job(SageMakerJobRequest.create(data_uri=data_uri, out_uri=out_uri, config=config,
                                                          role=role, bucket=bucket, instance_type=instance_type),
                               show_progress=app.settings.progress)
        click.echo(f"SageMaker training job {job.name}: {job.status}")
        click.echo(f"model: {job.local_model_uri}")
        return

    from scones.train.run import train as run_train

    report = run_train(data_uri, out_uri, config, show_progress=app.settings.progress)
    test = report.metrics["test"]
    at = test["at_threshold"]
    low, high = test["accuracy_ci95"]
    click.echo(f"model: {report.out_uri}/model.tar.gz")
    click.echo(f"test accuracy {test['accuracy']:.3f} (95% CI {low:.3f}-{high:.3f}, n={test['n']}), "
               f"ECE {test['ece']:.3f}")
    precision = f"{at['precision']:.3f}" if at["coverage"] > 0 else "n/a (no image kept)"
    click.echo(f"at threshold {at['threshold']:g}: coverage {at['coverage']:.3f}, precision {precision}")
    training = report.spec.training
    click.echo(f"trained {training['epochs_run']} epochs (kept {training['best_epoch']}), "
               f"{training['wall_seconds']:.1f} s wall, {training['cpu_seconds']:.1f} s CPU")


@click.command("threshold")
@click.option("--model", "model_uri", callback=not_empty,
              help="model.tar.gz or its folder. Default: the store's 'model'.")
@click.option("--data", "data_uri", callback=not_empty,
              help="The staged dataset the model was trained on. Default: the store's 'dataset'.")
@click.option("--target-precision", type=FiniteFloatRange(),
              help="Lowest acceptable precision among kept images, e.g. 0.99.")
@click.option("--target-coverage", type=FiniteFloatRange(), help="Lowest acceptable share of images kept, e.g. 0.9.")
@pass_app
def threshold(app: AppContext, model_uri: str | None, data_uri: str | None, target_precision: float | None,
              target_coverage: float | None) -> None:
    """Recommend the filter's confidence threshold from the validation part."""
    from scones.train.recommend import recommend_for_model

    rec = recommend_for_model(model_uri or app.default_uri("model"),
                              data_uri or app.default_uri("dataset"),
                              target_precision=target_precision, target_coverage=target_coverage)
    click.echo(f"threshold {rec.threshold:.4f}")
    click.echo(f"validation: coverage {rec.validation_coverage:.3f}, precision {rec.validation_precision:.3f}")
    click.echo(f"expect on test: coverage {rec.test_coverage:.3f}, precision {rec.test_precision:.3f}")
    if not rec.achievable:
        click.echo(f"note: no threshold reaches {rec.target} {rec.target_value:g} on validation; "
                   "this is the strictest one", err=True)
