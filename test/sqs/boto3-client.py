"""Drives the service with boto3 from Debian (botocore 1.29, SQS's query protocol): each step's
outcome is printed as one JSON document for test/sqs/boto3.test.ts to check."""
import json
import os
import threading
import time

import boto3
import botocore
from botocore.config import Config

endpoint = os.environ["SQS_ENDPOINT"]
name = os.environ["SQS_QUEUE_NAME"]


def client(secret=os.environ["SQS_SECRET_KEY"]):
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id=os.environ["SQS_SECRET_ID"],
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}),
    )


sqs = client()
out = {"botocore": botocore.__version__, "protocol": sqs.meta.service_model.protocol}

url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40", "MaximumMessageSize": "1024"})["QueueUrl"]
out["created"] = url
out["found"] = sqs.get_queue_url(QueueName=name)["QueueUrl"]
out["listed"] = sqs.list_queues(QueueNamePrefix=name).get("QueueUrls")

# A long poll answered by a send made while it waits.
received = {}
poll = threading.Thread(target=lambda: received.update(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, AttributeNames=["All"])))
poll.start()
time.sleep(0.5)
body = 'an <order> & "quotes"\r\nline two ✓'
sent = sqs.send_message(QueueUrl=url, MessageBody=body)
poll.join()
message = received["Messages"][0]
out["longPoll"] = {
    "sameId": message["MessageId"] == sent["MessageId"],
    "bodyIntact": message["Body"] == body,
    "md5": [sent["MD5OfMessageBody"], message["MD5OfBody"]],
    "receiveCount": message["Attributes"]["ApproximateReceiveCount"],
}
sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

batch = sqs.send_message_batch(
    QueueUrl=url,
    Entries=[{"Id": "one", "MessageBody": "1"}, {"Id": "too-large", "MessageBody": "x" * 2048}, {"Id": "two", "MessageBody": "2"}],
)
out["sendBatch"] = {
    "successful": sorted(entry["Id"] for entry in batch.get("Successful", [])),
    "failed": [[entry["Id"], entry["Code"], entry["SenderFault"]] for entry in batch.get("Failed", [])],
}
messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0)
again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])["Messages"]
out["visibility"] = [[m["Body"], m["Attributes"]["ApproximateReceiveCount"]] for m in again]
deleted = sqs.delete_message_batch(
    QueueUrl=url,
    Entries=[{"Id": "m0", "ReceiptHandle": again[0]["ReceiptHandle"]}, {"Id": "m1", "ReceiptHandle": messages[1]["ReceiptHandle"]}, {"Id": "stale", "ReceiptHandle": "1-0"}],
)
out["deleteBatch"] = {
    "successful": sorted(entry["Id"] for entry in deleted.get("Successful", [])),
    "failed": [[entry["Id"], entry["Code"]] for entry in deleted.get("Failed", [])],
}
out["attributes"] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

sqs.send_message(QueueUrl=url, MessageBody="purged")
sqs.purge_queue(QueueUrl=url)
out["afterPurge"] = sqs.receive_message(QueueUrl=url).get("Messages")


def error_of(call):
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return {"code": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"], "type": type(error).__name__}
    return None


sqs.delete_queue(QueueUrl=url)
out["missingQueue"] = error_of(lambda: sqs.get_queue_url(QueueName=name))
out["missingQueueIsTyped"] = out["missingQueue"]["type"] == "QueueDoesNotExist"
out["outOfRange"] = error_of(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11))
out["wrongSecret"] = error_of(lambda: client(os.environ["SQS_SECRET_KEY"] + "x").list_queues())
print(json.dumps(out))
