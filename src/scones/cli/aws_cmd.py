"""``scones package functions``, ``scones deploy aws`` and ``scones destroy aws``.

Thin: each command parses its options, builds one boto3 session, calls one
library function in ``scones.aws`` and prints the plan it returns. boto3 is
imported inside the commands, never at module import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from scones.cli.context import AppContext, FiniteFloatRange, not_empty, pass_app

if TYPE_CHECKING:
    from scones.aws.plan import Change
    from scones.aws.session import AwsClients


def _region_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option("--profile", help="AWS profile to use (default: boto3's usual resolution).")(func)
    func = click.option("--region", help="AWS region (default: AWS_REGION / your AWS config).")(func)
    func = click.option("--prefix", default="scones", show_default=True,
                        help="Names this deployment: S3 prefix, resource names and tags.")(func)
    return func


def _clients(region: str | None, profile: str | None) -> AwsClients:
    from scones.aws.session import AwsClients, make_session

    return AwsClients.from_session(make_session(region=region, profile=profile))


def _echo_change(change: Change) -> None:
    click.echo(change.render())


@click.group()
def package() -> None:
    """Build deployment packages."""


@package.command("functions")
@click.option("--out", "out_dir", callback=not_empty,
              help="Folder for the zips (default: <home>/dist/functions).")
@pass_app
def package_functions(app: AppContext, out_dir: str | None) -> None:
    """Zip each Lambda function with only what it needs (one zip per function)."""
    from scones.aws.naming import FUNCTIONS
    from scones.aws.package import write_function_zips

    target = Path(out_dir) if out_dir is not None else app.settings.home / "dist" / "functions"
    written = write_function_zips(target, list(FUNCTIONS))
    for path, size in written.items():
        click.echo(f"{path}  {size} bytes")


@click.group()
def deploy() -> None:
    """Deploy the workflow."""


@deploy.command("aws")
@click.option("--bucket", required=True, help="Existing S3 bucket for data, model, capture and packages.")
@_region_options
@click.option("--image-uri", help="Serving image (built from the endpoint Dockerfile, pushed to ECR).")
@click.option("--role-arn", help="Use this one IAM role for everything instead of creating three.")
@click.option("--dataset", "dataset_uri", callback=not_empty,
              help="Staged dataset to upload (default: the local store's dataset).")
@click.option("--model", "model_uri", callback=not_empty,
              help="model.tar.gz or a folder holding it (default: the local store's model).")
@click.option("--threshold", type=FiniteFloatRange(0.0, 1.0),
              help="Confidence threshold for filterInferences (THRESHOLD; default: the function's own, 0.93).")
@click.option("--instance-type", default="ml.m5.xlarge", show_default=True, help="Endpoint instance type.")
@click.option("--sampling-percentage", type=click.IntRange(0, 100), default=100, show_default=True,
              help="Share of requests Data Capture records.")
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--template", "template_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the stack as a CloudFormation template instead of creating it (uploads artifacts).")
@click.option("--no-wait", is_flag=True, help="Do not wait for the endpoint to be InService.")
@pass_app
def deploy_aws_cmd(app: AppContext, bucket: str, prefix: str, region: str | None, profile: str | None,
                   image_uri: str | None, role_arn: str | None, dataset_uri: str | None, model_uri: str | None,
                   threshold: float | None, instance_type: str, sampling_percentage: int, dry_run: bool,
                   template_path: Path | None, no_wait: bool) -> None:
    """Deploy data, model, endpoint, functions and state machines to AWS (idempotent)."""
    from scones.aws.deploy import DeployOptions, deploy_aws

    options = DeployOptions(bucket=bucket, prefix=prefix, image_uri=image_uri, role_arn=role_arn,
                            dataset_uri=dataset_uri or app.default_uri("dataset"),
                            model_uri=model_uri or app.default_uri("model"), threshold=threshold,
                            instance_type=instance_type, sampling_percentage=sampling_percentage)
    clients = _clients(region, profile)
    if template_path is not None:
        from scones.aws.template import write_template

        plan = write_template(clients, options, template_path, apply=not dry_run,
                              show_progress=app.settings.progress, on_change=_echo_change)
        click.echo(plan.summary())
        if dry_run:
            click.echo(f"dry run: wrote {template_path} but uploaded nothing; the model, dataset and function zips "
                       f"it refers to are not in s3://{bucket} yet (run again without --dry-run to upload them)")
            return
        click.echo(f"wrote {template_path}; deploy it with:\n  aws cloudformation deploy --template-file "
                   f"{template_path} --stack-name {prefix} --capabilities CAPABILITY_NAMED_IAM")
        return
    result = deploy_aws(clients, options, apply=not dry_run, wait=not no_wait,
                        show_progress=app.settings.progress, on_change=_echo_change)
    click.echo(result.plan.summary())
    if dry_run:
        click.echo("dry run: nothing was changed")
        return
    click.echo(f"endpoint: {result.endpoint_name}")
    for stem, arn in result.state_machine_arns.items():
        click.echo(f"state machine {stem}: {arn}")
    click.echo(f"failures are published to: {result.names.topic_arn}")


@click.group()
def destroy() -> None:
    """Remove what 'scones deploy' created."""


@destroy.command("aws")
@_region_options
@click.option("--bucket", help="Bucket the deployment used (needed only with --delete-data).")
@click.option("--delete-data", is_flag=True, help="Also delete the uploaded dataset, model and packages.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted and delete nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def destroy_aws_cmd(prefix: str, region: str | None, profile: str | None, bucket: str | None,
                    delete_data: bool, dry_run: bool, yes: bool) -> None:
    """Delete every resource tagged as this deployment (and nothing else)."""
    from scones.aws.destroy import destroy_aws
    from scones.errors import UsageError

    if delete_data and not bucket:
        raise UsageError("--delete-data needs --bucket", hint="pass the bucket you deployed to")
    clients = _clients(region, profile)
    clients.account_id()  # fail fast, and clearly, on credentials, region or network
    plan = destroy_aws(clients, prefix, bucket=bucket, apply=False, delete_data=delete_data)
    if not plan.changes:
        click.echo(f"nothing to destroy: no resources are tagged as deployment {prefix!r}")
        return
    click.echo(plan.render())
    if dry_run:
        click.echo("dry run: nothing was deleted")
        return
    if not yes:
        click.confirm("Delete these resources?", abort=True)
    destroy_aws(clients, prefix, bucket=bucket, apply=True, delete_data=delete_data)
    click.echo("destroyed")
