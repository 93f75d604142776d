package io.dbmigrate.workflows.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.payload.codec.PayloadCodecException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class EncryptionCodecTest {
    static final String KEY_A = CodecKeys.generate();
    static final String KEY_B = CodecKeys.generate();

    static Payload plain(String text) {
        return DefaultDataConverter.STANDARD_INSTANCE.toPayload(text).orElseThrow();
    }

    @Test
    void roundTripHidesTheWholePayloadAndNamesTheKey() {
        CodecKeys keys = CodecKeys.parse(KEY_A, "test");
        EncryptionCodec codec = new EncryptionCodec(keys);
        Payload p = plain("host source.db.internal password env:SOURCE_PASSWORD");

        Payload sealed = codec.encode(p);

        assertEquals(EncryptionCodec.ENCODING, sealed.getMetadataMap().get("encoding").toStringUtf8());
        assertEquals(keys.currentId(), sealed.getMetadataMap().get(EncryptionCodec.KEY_ID).toStringUtf8());
        assertEquals(2, sealed.getMetadataCount(), "the original encoding is inside the ciphertext");
        assertFalse(sealed.getData().toStringUtf8().contains("source.db.internal"));
        assertEquals(p, codec.decode(sealed));
        assertNotEquals(sealed.getData(), codec.encode(p).getData(), "a fresh nonce per payload");
        assertEquals(List.of(p, p), codec.decode(codec.encode(List.of(p, p))));
    }

    @Test
    void unencryptedPayloadsPassThroughDecode() {
        Payload p = plain("written before the codec was configured");
        assertEquals(p, new EncryptionCodec(CodecKeys.parse(KEY_A, "test")).decode(p));
    }

    @Test
    void alteredCiphertextOrKeyIdFailsAuthentication() {
        EncryptionCodec codec = new EncryptionCodec(CodecKeys.parse(KEY_A, "test"));
        Payload sealed = codec.encode(plain("status"));
        byte[] data = sealed.getData().toByteArray();
        data[data.length - 20] ^= 1;
        Payload tampered = sealed.toBuilder().setData(ByteString.copyFrom(data)).build();

        PayloadCodecException e = assertThrows(PayloadCodecException.class, () -> codec.decode(tampered));
        assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());

        // the key id is authenticated data: the same ciphertext under another (known) id does not decode
        CodecKeys both = CodecKeys.parse(KEY_A + "\n" + KEY_B, "test");
        String otherId = CodecKeys.parse(KEY_B, "test").currentId();
        Payload relabelled = sealed.toBuilder().putMetadata(EncryptionCodec.KEY_ID, ByteString.copyFromUtf8(otherId)).build();
        assertThrows(PayloadCodecException.class, () -> new EncryptionCodec(both).decode(relabelled));
    }

    @Test
    void rotationEncryptsWithTheFirstKeyAndStillDecodesWithTheOld() {
        Payload p = plain("report");
        Payload old = new EncryptionCodec(CodecKeys.parse(KEY_A, "test")).encode(p);

        CodecKeys rotated = CodecKeys.parse("# new key first\n" + KEY_B + "\n\n" + KEY_A + "\n", "test");
        EncryptionCodec codec = new EncryptionCodec(rotated);
        Payload fresh = codec.encode(p);

        assertEquals(CodecKeys.parse(KEY_B, "test").currentId(), fresh.getMetadataMap().get(EncryptionCodec.KEY_ID).toStringUtf8());
        assertEquals(CodecKeys.parse(KEY_A, "test").currentId(), old.getMetadataMap().get(EncryptionCodec.KEY_ID).toStringUtf8());
        assertEquals(p, codec.decode(old));
        assertEquals(p, codec.decode(fresh));
    }

    @Test
    void anUnknownKeyIdIsNamed() {
        Payload sealed = new EncryptionCodec(CodecKeys.parse(KEY_A, "test")).encode(plain("plan"));
        String id = CodecKeys.parse(KEY_A, "test").currentId();

        PayloadCodecException e = assertThrows(PayloadCodecException.class,
                () -> new EncryptionCodec(CodecKeys.parse(KEY_B, "test")).decode(sealed));
        assertTrue(e.getMessage().contains("'" + id + "'"), e.getMessage());
    }

    @Test
    void keysAreBase64OrHexOf32BytesAndErrorsNeverShowThem() {
        byte[] raw = java.util.Base64.getDecoder().decode(KEY_A);
        assertEquals(CodecKeys.parse(KEY_A, "k").currentId(), CodecKeys.parse(HexFormat.of().formatHex(raw), "k").currentId());

        String shortKey = java.util.Base64.getEncoder().encodeToString(new byte[16]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CodecKeys.parse(shortKey, "DBMIGRATE_CODEC_KEY file:/k"));
        assertTrue(e.getMessage().startsWith("DBMIGRATE_CODEC_KEY file:/k: line 1"), e.getMessage());
        assertFalse(e.getMessage().contains(shortKey), "the key text is not echoed");
        assertThrows(IllegalArgumentException.class, () -> CodecKeys.parse("# only a comment\n", "k"));
        assertFalse(CodecKeys.parse(KEY_A, "k").toString().contains(KEY_A));
    }
}
