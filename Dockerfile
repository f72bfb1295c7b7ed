# scones endpoint as a bring-your-own SageMaker inference container.
#   docker build -t scones-serve .
#   docker run -p 8080:8080 -v $PWD/model:/opt/ml/model scones-serve serve
# SageMaker extracts model.tar.gz into /opt/ml/model and runs `<image> serve`;
# the exec-form ENTRYPOINT lets the server receive SIGTERM and drain before SIGKILL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SCONES_SERVE_HOST=0.0.0.0 \
    SCONES_HOME=/tmp/scones \
    SCONES_PROGRESS=false

WORKDIR /opt/scones
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && rm -rf /root/.cache

LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
EXPOSE 8080
ENTRYPOINT ["python", "-m", "scones"]
CMD ["serve"]
