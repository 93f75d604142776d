package io.dbmigrate.workflows.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.History;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.converter.CodecDataConverter;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** Installs the codec on a client, and decodes a history fetched raw (for {@code ./dbmigrate history}). */
public final class Codecs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Codecs() {}

    /**
     * The default converter behind the codec. Failure attributes are encoded too: an error's message and stack trace
     * go into an encrypted payload and history shows "Encoded failure" (an apply error names a row otherwise).
     */
    public static DataConverter dataConverter(CodecKeys keys) {
        return new CodecDataConverter(DefaultDataConverter.newDefaultInstance(), List.of(new EncryptionCodec(keys)), true);
    }

    /** The builder with the codec installed when keys are configured; unchanged (plain payloads) otherwise. */
    public static WorkflowClientOptions.Builder install(WorkflowClientOptions.Builder b, Optional<CodecKeys> keys) {
        keys.ifPresent(k -> b.setDataConverter(dataConverter(k)));
        return b;
    }

    /** Every encrypted payload of the history decrypted, and encoded failure messages and stack traces put back. */
    public static History decode(History history, EncryptionCodec codec) {
        return (History) walk(history, codec::decode);
    }

    private static Message walk(Message m, UnaryOperator<Payload> f) {
        if (m instanceof Payload p) {
            return f.apply(p);
        }
        Message.Builder b = null;
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor fd = e.getKey();
            if (fd.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (fd.isRepeated()) {
                List<Object> out = new ArrayList<>();
                boolean changed = false;
                for (Object o : (List<?>) e.getValue()) {
                    Message n = walk((Message) o, f);
                    changed |= n != o;
                    out.add(n);
                }
                if (changed) {
                    b = b == null ? m.toBuilder() : b;
                    b.setField(fd, out);
                }
            } else {
                Message n = walk((Message) e.getValue(), f);
                if (n != e.getValue()) {
                    b = b == null ? m.toBuilder() : b;
                    b.setField(fd, n);
                }
            }
        }
        Message out = b == null ? m : b.build();
        return out instanceof Failure failure ? restoreAttributes(failure) : out;
    }

    /** What CodecDataConverter does when it turns a failure back into an exception, kept as a Failure. */
    private static Failure restoreAttributes(Failure failure) {
        if (!failure.hasEncodedAttributes() || EncryptionCodec.isEncrypted(failure.getEncodedAttributes())) {
            return failure;
        }
        try {
            JsonNode a = JSON.readTree(failure.getEncodedAttributes().getData().toByteArray());
            JsonNode trace = a.has("stackTrace") ? a.get("stackTrace") : a.get("stack_trace");
            return failure.toBuilder().clearEncodedAttributes()
                    .setMessage(a.path("message").asText(failure.getMessage()))
                    .setStackTrace(trace == null ? failure.getStackTrace() : trace.asText())
                    .build();
        } catch (IOException e) {
            return failure; // not the JSON CodecDataConverter writes: leave it as it is
        }
    }
}
